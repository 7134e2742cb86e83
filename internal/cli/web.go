package cli

import (
	"net"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/web"
)

// webFlags are the web UI flags shared by ltk master and ltk run.
type webFlags struct {
	Host string
	Port int
	Auth string // "user:pass"; empty = no auth
	// AllowedHosts are the names the UI answers to besides IP addresses,
	// localhost and Host.
	AllowedHosts []string
}

// addWebFlags adds --web-host, --web-port, --web-auth and
// --web-allowed-hosts to fs, bound to f (and, as every flag, to LTK_WEB_HOST,
// LTK_WEB_PORT, LTK_WEB_AUTH and LTK_WEB_ALLOWED_HOSTS).
func addWebFlags(fs *pflag.FlagSet, f *webFlags) {
	fs.StringVar(&f.Host, "web-host", web.DefaultHost, "interface the web UI listens on (127.0.0.1 keeps it on this machine)")
	fs.IntVar(&f.Port, "web-port", web.DefaultPort, "port of the web UI, REST API and /metrics")
	fs.StringVar(&f.Auth, "web-auth", "", `"user:pass" to require HTTP basic auth on every web route`)
	fs.StringSliceVar(&f.AllowedHosts, "web-allowed-hosts", nil,
		`host names the web UI answers to besides IP addresses, localhost and --web-host ("ui.example.com", ".example.com" for subdomains, "*" for any); others get 421, against DNS rebinding`)
}

// webConfig returns the web server's config for the flags; the caller adds
// the registry, version and logger.
func (f *webFlags) webConfig() web.Config {
	return web.Config{Addr: net.JoinHostPort(f.Host, strconv.Itoa(f.Port)), Auth: f.Auth, AllowedHosts: f.AllowedHosts}
}
