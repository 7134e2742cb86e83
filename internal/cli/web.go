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
}

// addWebFlags adds --web-host, --web-port and --web-auth to fs, bound to f
// (and, as every flag, to LTK_WEB_HOST, LTK_WEB_PORT and LTK_WEB_AUTH).
func addWebFlags(fs *pflag.FlagSet, f *webFlags) {
	fs.StringVar(&f.Host, "web-host", web.DefaultHost, "interface the web UI listens on (127.0.0.1 keeps it on this machine)")
	fs.IntVar(&f.Port, "web-port", web.DefaultPort, "port of the web UI, REST API and /metrics")
	fs.StringVar(&f.Auth, "web-auth", "", `"user:pass" to require HTTP basic auth on every web route`)
}

// webConfig returns the web server's config for the flags; the caller adds
// the registry, version and logger.
func (f *webFlags) webConfig() web.Config {
	return web.Config{Addr: net.JoinHostPort(f.Host, strconv.Itoa(f.Port)), Auth: f.Auth}
}
