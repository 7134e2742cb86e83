package cli

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
)

func init() { register(newDevicesCmd) }

// devicesFlags are the flags of ltk devices and its subcommands.
type devicesFlags struct {
	fleet   fleetFlags
	reg     registryFlags
	alg     string
	profile string // --profile of create
	auth    string // --auth of create: "" = the profile's
	prefix  string
	width   int
	quiet   bool
	all     bool
	json    bool
}

func newDevicesCmd(env *Env) *cobra.Command {
	var f devicesFlags
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Create, list and delete the simulated devices (devicelist.csv and the local registry)",
		Long: `Devices are kept in two files in the ltk root ($LTK_ROOT or the working directory):
devicelist.csv holds each device's id and private key (mode 0600), and the local
registry (registry.csv) its public key, which the embedded target checks device
JWTs against. The devices commands change both files together.

With --registry iotcore (or LTK_REGISTRY_BACKEND=iotcore) devices are registered,
with their public keys, in an IoT-Core-API registry instead: the Device Manager at
--registry-endpoint, registry projects/LTK_TARGET_PROJECT_ID/locations/LTK_TARGET_REGION/
registries/LTK_TARGET_REGISTRY_ID. With --registry azure they are IoT Hub devices
(--profile azure); with --registry aws AWS IoT things, each with its certificate
and an IoT policy (--profile aws; the region and credentials are AWS's usual
AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE).

  ltk devices create 1 100            # LTK00001…LTK00100, RSA-2048 keys (RS256)
  ltk devices create 101 200 --alg ES256
  ltk devices list
  ltk devices delete 101 200
  ltk devices delete --all`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unknown command %q for ltk devices (want create, list or delete)", args[0]))
			}
			return cmd.Help()
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	addFleetFlags(cmd.PersistentFlags(), &f.fleet)
	addRegistryFlags(cmd.PersistentFlags(), &f.reg)
	cmd.AddCommand(newDevicesCreateCmd(env, &f), newDevicesListCmd(env, &f), newDevicesDeleteCmd(env, &f))
	return cmd
}

func newDevicesCreateCmd(env *Env, f *devicesFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create FROM TO",
		Short: "Make devices FROM…TO: keys, a row each in devicelist.csv, registration",
		Long: `Create makes devices numbered FROM to TO (create 1 100 makes LTK00001…LTK00100),
appends their ids and private keys to devicelist.csv and registers their public
keys in the local registry. It adds to what is there: after create 1 100,
create 101 200 makes 100 more. It refuses ids that exist already.

Nothing is written until every key is made, so Ctrl-C or an error leaves both
files as they were (Ctrl-C says so and exits 130). One command makes at most
100000 devices: every key is held in memory until the one write; make a larger
fleet in several ranges.`,
		Args: rangeArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.reg.resolve(cmd, env); err != nil {
				return err
			}
			return createDevices(cmd, env, f, args)
		},
	}
	addIDFlags(cmd.Flags(), f)
	cmd.Flags().StringVar(&f.alg, "alg", string(device.DefaultAlg), "key algorithm: RS256 (RSA-2048) or ES256 (EC P-256, much faster to make; the default of --profile aws, azure and generic)")
	cmd.Flags().Var((*profile)(&f.profile), "profile", "credentials to make beside each key: iotcore and clearblade none; aws an X.509 certificate from ltk's test CA (made once, ltk-ca.pem); azure a symmetric key; generic a username and password")
	cmd.Flags().StringVar(&f.auth, "auth", "", "device auth the credentials are for (default: the profile's); --profile azure --auth x509 makes IoT Hub CA-signed X.509 devices: a certificate from ltk's test CA each, no symmetric key")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// addIDFlags registers the flags that spell device ids from numbers.
func addIDFlags(fs *pflag.FlagSet, f *devicesFlags) {
	fs.StringVar(&f.prefix, "prefix", "LTK", "device id prefix")
	fs.IntVar(&f.width, "width", 5, "digits of the device number in an id (LTK00001 has 5)")
}

// maxCreate is the most devices one devices create makes. Every key and
// row is held in memory until both files are written at once (so that an
// interruption leaves them as they were): about 2.5 KB a device with ES256
// and 5 KB with RS256, so 100000 devices take a few hundred MB, and as many
// RSA-2048 keys about an hour on two cores. A larger range would grow
// until the machine runs out of memory.
const maxCreate = 100_000

func createDevices(cmd *cobra.Command, env *Env, f *devicesFlags, args []string) error {
	ctx := cmd.Context()
	r, err := parseRange(f, args)
	if err != nil {
		return err
	}
	if r.num > maxCreate {
		return withHint(usageError(fmt.Errorf("%s in one command is more than the %d ltk makes at once: every key is held in memory until both files are written (about 2.5 KB a device with ES256, 5 KB with RS256)",
			plural(r.num, "device"), maxCreate)),
			fmt.Sprintf("create the fleet in ranges of at most %d, e.g. ltk devices create %d %d, then %d %d", maxCreate, r.from, r.from+maxCreate-1, r.from+maxCreate, min(r.to, r.from+2*maxCreate-1)))
	}
	if err := f.checkProfile(cmd); err != nil {
		return err
	}
	alg, err := device.ParseAlg(f.alg)
	if err != nil {
		return usageError(fmt.Errorf("--alg: %w", err))
	}
	list, err := readDeviceList(env, &f.fleet)
	if err != nil {
		return err
	}
	reg, regName, err := openRegistry(ctx, env, f)
	if err != nil {
		return err
	}
	defer closeRegistry(reg)
	if err := checkFree(r, list, reg.IDs(), regName); err != nil {
		return err
	}
	ids := make([]string, 0, r.num)
	for n := r.from; n <= r.to; n++ {
		ids = append(ids, r.id(n))
	}
	sigCtx, again, stop := env.signals(ctx)
	defer stop()
	go hardStop(env, again)
	bar := newKeyProgress(env, r.num, alg, f.quiet)
	devs, err := device.GenerateAll(sigCtx, ids, alg, bar.step)
	bar.finish()
	if err != nil {
		if sigCtx.Err() != nil {
			return withExitCode(fmt.Errorf("interrupted: no devices created (%d of %d keys were made and dropped); %s and %s are unchanged",
				bar.made(), r.num, list.name, regName), ExitInterrupted)
		}
		return err
	}
	creds, err := makeProfileCreds(env, f.profile, f.auth, devs)
	if err != nil {
		return err
	}
	entries := registry.EntriesOf(devs)
	creds.apply(devs, entries)
	if a, ok := reg.(*registry.AWS); ok && f.reg.awsRegisterCA {
		a.UseCA(creds.ca)
	}
	data, err := device.AppendFleetColumns(list.raw, devs, creds.columns)
	if err != nil {
		return err
	}
	if err := creds.writeCA(env); err != nil { // before the list that needs it; a CA left by a failure below is reused
		return err
	}
	if err := list.replace(data, func() error { return reg.Add(entries) }); err != nil {
		return err
	}
	what := strings.Replace(profileFlag(f.profile), " --profile ", ", profile ", 1)
	if f.auth != "" {
		what += ", auth " + f.auth
	}
	fmt.Fprintf(env.Stdout, "Created %s %s (%s%s): %s now holds %s.\n",
		plural(r.num, "device"), r, alg, what, list.name, plural(len(list.devs)+len(devs), "device"))
	return nil
}

// checkProfile settles create's --profile: its key algorithm (ES256 for
// aws, azure and generic unless --alg says otherwise) and a registry
// backend that can hold its credentials.
func (f *devicesFlags) checkProfile(cmd *cobra.Command) error {
	if err := f.checkAuth(); err != nil {
		return err
	}
	if f.profile == runset.ProfileClearBlade && f.reg.backend == registryIoTCore && f.reg.iot.Endpoint == "" {
		f.reg.iot.Endpoint = clearbladeEndpoint(f.reg.iot.Region) // IoT Core's API at ClearBlade's endpoint
	}
	if f.reg.awsRegisterCA && f.reg.backend != registryAWS {
		return usageError(errors.New("--aws-register-ca registers the test CA with AWS IoT: use it with --registry aws"))
	}
	if f.profile == "" || f.profile == runset.ProfileIoTCore || f.profile == runset.ProfileClearBlade {
		switch f.reg.backend {
		case registryAzure:
			return usageError(errors.New("--registry azure registers IoT Hub devices (symmetric keys, or X.509 with --auth x509): add --profile azure"))
		case registryAWS:
			return usageError(errors.New("--registry aws registers AWS IoT things with X.509 certificates: add --profile aws"))
		}
		return nil
	}
	if !cmd.Flags().Changed("alg") {
		f.alg = string(device.ES256)
	}
	if f.reg.backend == registryIoTCore {
		return usageError(fmt.Errorf("--registry iotcore registers IoT-Core devices (JWT keys): use --profile iotcore or clearblade with it, or --registry local for --profile %s", f.profile))
	}
	if f.reg.backend == registryAzure && f.profile != runset.ProfileAzure {
		return usageError(fmt.Errorf("--registry azure registers IoT Hub devices (symmetric keys, or X.509 with --auth x509): use --profile azure with it, or --registry local for --profile %s", f.profile))
	}
	return nil
}

// checkAuth settles create's --auth: the profile's own, or x509 for azure
// (IoT Hub's CA-signed X.509 devices); "" when it is the profile's.
func (f *devicesFlags) checkAuth() error {
	if f.auth == "" {
		return nil
	}
	p, err := runset.ProfileByName(f.profile)
	if err != nil {
		return usageError(err)
	}
	switch {
	case f.auth == p.Auth:
		f.auth = ""
	case p.Name == runset.ProfileAzure && f.auth == runset.AuthCert:
	default:
		return usageError(fmt.Errorf("--auth %s: profile %s makes credentials for auth %s only (and azure for x509 too)", f.auth, p.Name, p.Auth))
	}
	if f.reg.backend == registryAWS && f.profile != runset.ProfileAWS {
		return usageError(fmt.Errorf("--registry aws registers AWS IoT things with X.509 certificates: use --profile aws with it, or --registry local for --profile %s", f.profile))
	}
	return nil
}

// checkFree refuses a range that overlaps devices in either file, suggesting
// the next free range of the same size.
func checkFree(r idRange, list *deviceList, regIDs []string, regName string) error {
	for _, src := range []struct {
		name string
		ids  []string
	}{{list.name, deviceIDs(list.devs)}, {regName, regIDs}} {
		var clash []string
		for _, id := range src.ids {
			if r.contains(id) {
				clash = append(clash, id)
			}
		}
		if len(clash) == 0 {
			continue
		}
		slices.Sort(clash)
		what := clash[0] + " already exists"
		if len(clash) > 1 {
			what = fmt.Sprintf("%s and %d more already exist", clash[0], len(clash)-1)
		}
		last := 0
		for _, id := range append(deviceIDs(list.devs), regIDs...) {
			last = max(last, r.number(id))
		}
		next := fmt.Sprintf("create a range after %s (ltk devices create %d %d) or delete first",
			r.id(last), last+1, last+r.num)
		if len(strconv.Itoa(last+r.num)) > r.width {
			next = "delete first"
		}
		return fmt.Errorf("%s in %s; %s", what, src.name, next)
	}
	return nil
}

func deviceIDs(devs []device.Device) []string {
	ids := make([]string, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	return ids
}

// openDeviceRegistry opens the local registry and returns it with its name
// for messages.
func openDeviceRegistry(env *Env, f *fleetFlags) (deviceRegistry, string, error) {
	path := f.registryPath(env)
	name := displayPath(env, path)
	reg, err := registry.OpenLocal(path, registry.WithName(name))
	if err != nil {
		return nil, name, withHint(err, "fix or remove that row by hand; ltk does not change a registry it cannot read")
	}
	return reg, name, nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// keyProgress shows a progress bar while keys are made: from the start for 50
// devices or more, and for fewer once it has taken over a second. Where
// stderr is no terminal (a file, a pipe, a CI log), whose lines a bar's '\r'
// frames would pile up in, it writes one plain line instead.
type keyProgress struct {
	env   *Env
	total int
	alg   device.Alg
	quiet bool
	tty   bool // stderr is a terminal: a bar, not a line
	start time.Time

	mu   sync.Mutex // Guards the fields below.
	done int
	bar  *progressbar.ProgressBar
}

// progressAlways is the range size from which the bar shows at once.
const progressAlways = 50

func newKeyProgress(env *Env, total int, alg device.Alg, quiet bool) *keyProgress {
	p := &keyProgress{env: env, total: total, alg: alg, quiet: quiet, tty: isTerminal(env.Stderr), start: time.Now()}
	if !quiet && total >= progressAlways {
		p.bar = p.newBar()
	}
	return p
}

// newBar starts the bar on a terminal; elsewhere it writes the one plain
// line and returns a bar that writes nothing.
func (p *keyProgress) newBar() *progressbar.ProgressBar {
	if !p.tty {
		fmt.Fprintf(p.env.Stderr, "Making %s keys for %s…\n", p.alg, plural(p.total, "device"))
		return progressbar.DefaultSilent(int64(p.total))
	}
	return progressbar.NewOptions(p.total,
		progressbar.OptionSetWriter(p.env.Stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("Making %s keys", p.alg)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true))
}

// step counts one key made; called concurrently by the generators.
func (p *keyProgress) step() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.bar == nil {
		if p.quiet || time.Since(p.start) < time.Second {
			return
		}
		p.bar = p.newBar()
		_ = p.bar.Set(p.done)
		return
	}
	_ = p.bar.Add(1)
}

// made returns how many keys were made so far.
func (p *keyProgress) made() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// finish clears the bar, if one was shown. step must not be called after.
func (p *keyProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && p.done < p.total {
		_ = p.bar.Clear() // interrupted; a full bar clears itself
	}
}
