package web_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// TestGrafanaDashboardUsesServedMetrics keeps deploy/grafana/ltk.json in
// step with the metrics: every ltk_master_* name it queries must be one the
// server registers.
func TestGrafanaDashboardUsesServedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../deploy/grafana/ltk.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))

	reg := prometheus.NewRegistry()
	e := start(t, web.Config{Registry: reg})
	e.running(2) // so that the request metrics have series
	fams, err := reg.Gather()
	require.NoError(t, err)
	served := map[string]bool{}
	for _, f := range fams {
		served[f.GetName()] = true
	}

	names := regexp.MustCompile(`ltk_master_[a-z_]+`)
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range names.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
				require.True(t, served[base], "dashboard queries %s, which the server does not export", n)
				used++
			}
		}
	}
	require.Positive(t, used)
}
