package master

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/stats"
)

// Defaults of Config.
const (
	DefaultPort              = 5557
	DefaultHeartbeatInterval = time.Second
	DefaultMissedHeartbeats  = 3
	DefaultReportInterval    = 2 * time.Second
)

// Config describes a master.
type Config struct {
	// Addr is the gRPC listen address, such as ":5557" or "127.0.0.1:0".
	Addr string
	// Version is the ltk version; workers of another version are refused.
	Version string
	// Token, when set, is the cluster token every worker must present: the
	// stream carries device private keys.
	Token string
	// TLS, when set, serves the port over TLS (clustertls.Server); with
	// ClientCAs, only workers with a certificate it signed get in. nil =
	// plaintext.
	TLS *tls.Config

	// Devices is the device list; the worker with ordinal k runs block k of
	// BlockSize devices (the last block may be shorter).
	Devices []device.Device
	// Columns names the devices' extra devicelist.csv columns
	// (device.Device.Values), which a scenario may read.
	Columns []string
	// BlockSize is the number of devices per block; 0 = len(Devices) ÷
	// ExpectWorkers, rounded up.
	BlockSize int
	// ExpectWorkers is how many workers a test waits for; default 1.
	ExpectWorkers int
	// Settings say how devices connect and behave; they go to every worker,
	// which checks them (the master passes them on as they are: the CLI
	// checked them). An empty MQTTClient is sim.ClientLean.
	Settings runset.Settings

	HeartbeatInterval time.Duration // how often workers heartbeat; default 1 s
	MissedHeartbeats  int           // heartbeats missed before a worker is missing; default 3
	ReportInterval    time.Duration // how often workers report stats; default 2 s

	// OnDelta, if set, sees every stats delta a worker reports (normally one
	// per worker per second) once it is merged, with the worker's ordinal:
	// a delta the master refuses (see Deltas) or received already does not
	// reach it.
	// It is called from the goroutine serving that worker, so concurrently
	// for different workers, and must return quickly. It may keep d but must
	// not modify it.
	OnDelta func(worker int, d *stats.Delta)

	// OnException, if set, sees every exception a worker reports (a spawn
	// it could not do, settings it cannot run with), with its ordinal and
	// host; called like OnDelta. The master also prints them to Events.
	OnException func(worker int, host, message string)

	Logger *slog.Logger // nil = discard
	Events io.Writer    // one line per worker event (joined, missing, back, refused), for people; nil = discard
}

func (c *Config) setDefaults() {
	if c.Settings.MQTTClient == "" {
		c.Settings.MQTTClient = sim.ClientLean
	}
	if c.ExpectWorkers == 0 {
		c.ExpectWorkers = 1
	}
	if c.BlockSize == 0 && len(c.Devices) > 0 && c.ExpectWorkers > 0 {
		c.BlockSize = (len(c.Devices) + c.ExpectWorkers - 1) / c.ExpectWorkers
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.MissedHeartbeats == 0 {
		c.MissedHeartbeats = DefaultMissedHeartbeats
	}
	if c.ReportInterval == 0 {
		c.ReportInterval = DefaultReportInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Events == nil {
		c.Events = io.Discard
	}
}

// Validate reports what the master cannot run with, naming the setting.
func (c *Config) Validate() error {
	var errs []error
	if c.ExpectWorkers < 1 {
		errs = append(errs, fmt.Errorf("expect workers %d: want at least 1", c.ExpectWorkers))
	}
	if c.BlockSize < 0 {
		errs = append(errs, fmt.Errorf("block size %d is negative (0: devices ÷ expected workers)", c.BlockSize))
	}
	if c.HeartbeatInterval < 0 || c.ReportInterval < 0 || c.MissedHeartbeats < 0 {
		errs = append(errs, errors.New("heartbeat interval, report interval and missed heartbeats must not be negative"))
	}
	return errors.Join(errs...)
}

// silence is how long a worker may stay quiet before it is missing.
func (c *Config) silence() time.Duration {
	return time.Duration(c.MissedHeartbeats) * c.HeartbeatInterval
}
