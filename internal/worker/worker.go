package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/scenario"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/srcaddr"
	"github.com/ltk-dev/ltk/internal/stats"
	"github.com/ltk-dev/ltk/internal/swarm"
)

// Worker owns a block of devices and the stats they record.
// Its methods are safe for concurrent use.
type Worker struct {
	swarm *swarm.Swarm
	rec   *stats.Recorder
	size  int
}

// Block is a worker's share of the fleet: its devices, the names of their
// extra devicelist.csv columns, the fleet index of its first device and the
// worker's ordinal. A scenario picks each device's kind by its fleet index.
type Block struct {
	Devices []device.Device
	Columns []string
	First   int
	Ordinal int
}

// New checks settings and prepares a worker for the devices of block
// under them. Nothing connects before Scale.
func New(block Block, settings runset.Settings, log *slog.Logger) (*Worker, error) {
	plan, err := checkSettings(&settings)
	if err != nil {
		return nil, err
	}
	return newWorker(block, &settings, plan, stats.NewRecorder(), srcaddr.Plan{}, log, nil)
}

// newWorker is New with settings already checked (plan is their scenario's,
// nil without one), the recorder the devices record into, the source
// addresses they dial from and the broker's refusal reasons (nil: none).
func newWorker(block Block, settings *runset.Settings, plan *sim.Plan, rec *stats.Recorder, sources srcaddr.Plan, log *slog.Logger, refusal RefusalFunc) (*Worker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := sim.BuiltinEvents()
	if plan != nil {
		names = plan.Events
	}
	cfgs, err := deviceConfigs(settings, block, plan, newRecorder(rec, names, log, refusal))
	if err != nil {
		return nil, err
	}
	src, short := sourcePlan(sources, settings.Broker, len(cfgs))
	if short {
		log.Warn("more devices than the source addresses carry to one broker address: connects will stall; "+
			"give the worker more source addresses (--source-addrs) or fewer devices",
			"devices", len(cfgs), "source_addresses", max(len(src.Addrs), 1), "per_source", src.PerSource)
	}
	for i := range cfgs {
		cfgs[i].Logger = log
		cfgs[i].LocalAddr = src.For(i)
	}
	sw, err := swarm.New(swarm.Config{Devices: cfgs, Logger: log})
	if err != nil {
		return nil, err
	}
	return &Worker{swarm: sw, rec: rec, size: len(block.Devices)}, nil
}

// Run runs the worker's devices until ctx ends, then stops them gracefully
// and returns once every device has disconnected.
func (w *Worker) Run(ctx context.Context) error { return w.swarm.Run(ctx) }

// Scale asks for count devices, started or stopped at rate devices per second.
func (w *Worker) Scale(count int, rate float64) error { return w.swarm.Scale(count, rate) }

// Stop stops every device gracefully (last-echo wait, then disconnect).
func (w *Worker) Stop() { w.swarm.Stop() }

// Running is the number of devices started and not stopped.
func (w *Worker) Running() int { return w.swarm.Running() }

// Size is the number of devices in the worker's block.
func (w *Worker) Size() int { return w.size }

// Spawned is signalled when the last Scale's ramp has completed.
func (w *Worker) Spawned() <-chan struct{} { return w.swarm.Spawned() }

// Drain returns the stats recorded since the previous Drain.
func (w *Worker) Drain(now time.Time) *stats.Delta { return w.rec.Drain(now) }

// A RefusalFunc says why the broker refused device's last connect, in
// words (ok false if it did not, or does not know).
type RefusalFunc func(device string) (reason string, ok bool)

// recorder records sim events into stats entries resolved once, so recording
// is a slice index and a histogram update. Its entries are the built-in
// events' and, for a scenario's plan, the plan's own (sim.Plan.Events).
// A failure keeps its device's id as an example of its row, and is logged
// at debug level with the device (--loglevel debug).
type recorder struct {
	entries []*stats.Entry
	log     *slog.Logger
	debug   bool        // log is enabled at debug level
	refusal RefusalFunc // may be nil
}

func newRecorder(r *stats.Recorder, names []sim.EventName, log *slog.Logger, refusal RefusalFunc) *recorder {
	rec := &recorder{entries: make([]*stats.Entry, len(names)), log: log,
		debug: log.Enabled(context.Background(), slog.LevelDebug), refusal: refusal}
	for i, n := range names {
		rec.entries[i] = r.Entry(n.Type, n.Name)
	}
	return rec
}

func (r *recorder) Success(ev sim.Event, d time.Duration, size int) { r.entries[ev].Record(d, size) }

// Failure records a failure of device under f's message; a miss
// (d = sim.NoDuration) is recorded without a response time. A refusing
// CONNACK without a reason string gets the broker's reason from refusal,
// if it knows one: "connection refused: not authorized (CONNACK 0x05:
// unknown_device: the device is not registered)".
func (r *recorder) Failure(ev sim.Event, d time.Duration, device string, f sim.Fault) {
	e := r.entries[ev]
	if d == sim.NoDuration {
		d = stats.NoResponseTime
	}
	if f.Packet == "CONNACK" && f.Reason == "" && r.refusal != nil {
		f.Reason, _ = r.refusal(device)
	}
	msg := f.Message()
	e.Fail(d, msg, device)
	if r.debug {
		r.log.Debug("failure", "device", device, "type", e.Type(), "name", e.Name(), "error", msg)
	}
}

// checkSettings reports run settings this worker's devices could not run
// with: runset's checks, the behaviour and MQTT client names that sim
// knows, what the MQTT client can speak, and the scenario, which it loads (a newer master may send a name or
// a scenario version this worker does not know). It returns the scenario's
// plan, nil when the settings name none.
func checkSettings(s *runset.Settings) (*sim.Plan, error) {
	s.SetDefaults() // a master that predates profiles sends none
	_, behaviorErr := sim.BehaviorByName(s.Behavior)
	var ttlErr error
	if s.TokenTTL != 0 { // 0: the default lifetime
		ttlErr = device.ValidateTTL(s.TokenTTL)
	}
	err := errors.Join(s.Validate(), behaviorErr, sim.CheckClient(s.MQTTClient), ttlErr)
	if err != nil {
		return nil, err
	}
	if s.Scenario == "" {
		return nil, sim.CheckRun(mqttClient(s), s.Broker, s.MQTTVersion, s.QoS, nil)
	}
	sc, err := scenario.Load("the master's scenario", []byte(s.Scenario))
	if err != nil {
		return nil, fmt.Errorf("this worker (scenario format version %d) cannot run it: %w", scenario.Version, err)
	}
	plan := sc.Plan()
	return plan, sim.CheckRun(mqttClient(s), s.Broker, s.MQTTVersion, s.QoS, plan)
}

// mqttClient returns the MQTT client engine s runs devices on: its
// MQTTClient, or sim.ClientLean when it is empty (a master that predates
// the setting sends none).
func mqttClient(s *runset.Settings) string {
	if s.MQTTClient == "" {
		return sim.ClientLean
	}
	return s.MQTTClient
}

// deviceConfigs builds one sim.Config per device of b under s, which
// checkSettings accepted, all reporting to rec. With a scenario's plan, a
// device runs the program of its kind (by its fleet index) and reads the
// columns the plan names; without one, every device runs s's behaviour.
func deviceConfigs(s *runset.Settings, b Block, plan *sim.Plan, rec sim.Recorder) ([]sim.Config, error) {
	behavior, _ := sim.BehaviorByName(s.Behavior)
	tlsCfg, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	var pick columnPicker
	if plan != nil {
		if pick, err = newColumnPicker(plan.Columns, b.Columns); err != nil {
			return nil, err
		}
	}
	topics := s.Topics()
	cfgs := make([]sim.Config, len(b.Devices))
	var prog *sim.Program
	for i, d := range b.Devices {
		c := sim.Config{
			Broker:             s.Broker,
			TLS:                tlsCfg,
			DeviceID:           d.ID,
			Topics:             topics,
			ClientID:           s.ClientID(d.ID),
			Username:           s.Username,
			QoS:                s.QoS,
			MQTTVersion:        s.MQTTVersion,
			WaitMin:            s.WaitMin,
			WaitMax:            s.WaitMax,
			EchoTimeout:        s.EchoTimeout,
			LastMessageTimeout: s.LastMessageTimeout,
			PayloadSize:        s.PayloadSize,
			Behavior:           behavior,
			Client:             mqttClient(s),
			Recorder:           rec,
			Index:              b.First + i,
			Worker:             b.Ordinal,
			BackendPassword:    s.BackendPassword,
		}
		if plan != nil {
			c.Program = plan.Kinds[plan.KindOf(c.Index)]
			c.Columns = pick.values(d.Values)
		}
		if c.Program == nil || !c.Program.Backend {
			if err := credentials(&c, s, d, b.Columns); err != nil {
				return nil, err
			}
		}
		if c.Program == nil {
			if prog == nil { // one Program for the block: every device is configured alike
				prog = behavior(&c)
			}
			c.Program = prog
		}
		cfgs[i] = c
	}
	return cfgs, nil
}

// credentials gives c the credentials of device d under s's auth: its
// password, username or client certificate; columns name d's Values.
func credentials(c *sim.Config, s *runset.Settings, d device.Device, columns []string) error {
	column := func(name string) (string, error) {
		v, ok := device.Column(columns, d.Values, name)
		if !ok {
			return "", fmt.Errorf("device %s has no %s in devicelist.csv: auth %s (profile %s) needs one; make devices with ltk devices create --profile %s",
				d.ID, name, s.Auth, s.Profile, s.Profile)
		}
		return v, nil
	}
	switch s.Auth {
	case runset.AuthJWT:
		if d.Key == nil {
			return fmt.Errorf("device %s has no private key: JWT auth needs the keys from devicelist.csv", d.ID)
		}
		c.Credentials = device.NewJWTSource(d, s.Project, s.TokenTTL)
	case runset.AuthPassword:
		c.Credentials = staticPassword(s.Password)
	case runset.AuthCert:
		pem, err := column(device.ColumnCertificate)
		if err != nil {
			return err
		}
		if c.Certificate, err = device.TLSCertificate(d, pem); err != nil {
			return err
		}
		if s.Profile == runset.ProfileAzure { // IoT Hub's X.509 devices: its username, no password
			c.Username = device.SASUsername(s.AzureHub(), d.ID)
		}
	case runset.AuthSAS:
		key, err := column(device.ColumnSymmetricKey)
		if err != nil {
			return err
		}
		hub := s.AzureHub()
		src, err := device.NewSASSource(hub, d.ID, key, s.TokenTTL)
		if err != nil {
			return err
		}
		c.Username, c.Credentials = device.SASUsername(hub, d.ID), src
	case runset.AuthDevicePassword:
		user, err := column(device.ColumnUsername)
		if err != nil {
			return err
		}
		pw, err := column(device.ColumnPassword)
		if err != nil {
			return err
		}
		c.Username, c.Credentials = user, staticPassword(pw)
	}
	return nil
}

// columnPicker maps a device's devicelist.csv values to the columns a plan
// reads, in the plan's order.
type columnPicker struct {
	at       []int // at[k]: the device value of the plan's column k
	identity bool  // the plan reads the file's columns in the file's order
}

func newColumnPicker(want, have []string) (columnPicker, error) {
	p := columnPicker{at: make([]int, len(want)), identity: slices.Equal(want, have)}
	for k, name := range want {
		p.at[k] = slices.Index(have, name)
		if p.at[k] < 0 {
			return p, fmt.Errorf("the scenario reads column %q, which devicelist.csv does not name (its header names: %s): add it to the header row, e.g. id,private_key,%s",
				name, strings.Join(append([]string{"id", "private_key"}, have...), ","), name)
		}
	}
	return p, nil
}

// values returns the plan's columns of a device whose file values are v; a
// value the row leaves out is empty.
func (p columnPicker) values(v []string) []string {
	if len(p.at) == 0 {
		return nil
	}
	if p.identity && len(v) == len(p.at) {
		return v
	}
	out := make([]string, len(p.at))
	for k, i := range p.at {
		if i < len(v) {
			out[k] = v[i]
		}
	}
	return out
}

// staticPassword is a password that never expires.
type staticPassword string

func (p staticPassword) Password(time.Time) (string, time.Time, error) {
	return string(p), time.Time{}, nil
}
