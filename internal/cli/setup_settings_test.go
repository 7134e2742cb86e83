package cli

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/kube"
	"github.com/ltk-dev/ltk/internal/runset"
)

// TestSetupSettingsHoldEveryRunSetting: every run-setting flag's LTK_*
// variable reaches the ltk-settings ConfigMap (a hand-kept list once dropped
// LTK_MQTT_CLIENT), except the secrets and local paths notSettingKeys names;
// and every key of the ConfigMap is one the master reads.
func TestSetupSettingsHoldEveryRunSetting(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	addSettingsFlags(fs, new(runset.Settings))
	vars := map[string]string{}
	var want, secret []string
	fs.VisitAll(func(f *pflag.Flag) {
		name := EnvName(f.Name)
		vars[name] = "value-of-" + f.Name
		if _, skip := notSettingKeys[f.Name]; skip {
			secret = append(secret, name)
		} else {
			want = append(want, name)
		}
	})
	require.Contains(t, want, "LTK_MQTT_CLIENT")
	env := &Env{Dir: t.TempDir(), Getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	cfg := kube.Config{}
	vars["LTK_BROKER"] = "value-of-broker:1883"
	err := setupSettings(env, &cfg)
	require.Equal(t, ExitUsage, exitCodeOf(err))
	require.ErrorContains(t, err, `LTK_BROKER: broker "value-of-broker:1883" has no scheme: write tcp://value-of-broker:1883`)
	vars["LTK_BROKER"] = "tcp://value-of-broker:1883"
	require.NoError(t, setupSettings(env, &cfg))
	for _, k := range want {
		require.Equal(t, vars[k], cfg.Values.Settings[k], "%s in the ltk-settings ConfigMap", k)
	}
	for _, k := range secret {
		require.NotContains(t, cfg.Values.Settings, k, "%s stays out of the ConfigMap: %s", k)
	}

	master := newMasterCmd(env).Flags()
	for _, k := range settingKeys() {
		read := false
		master.VisitAll(func(f *pflag.Flag) { read = read || EnvName(f.Name) == k })
		for _, fallback := range targetEnvFallbacks {
			read = read || fallback == k
		}
		require.True(t, read, "ltk master reads %s", k)
	}
}
