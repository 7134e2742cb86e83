package kube

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// No engine runs here to build the image, so these tests read the Dockerfile
// and .dockerignore for what keeps keys out of its layers.

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	var froms, copies []string
	user := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, l)
		case "COPY":
			copies = append(copies, l)
		case "USER":
			user = f[1]
		}
	}
	require.Len(t, froms, 2, "a build stage and a run stage")
	require.Contains(t, froms[1], "distroless/static", "a minimal base without a shell")
	require.Contains(t, froms[1], ":nonroot")
	require.Equal(t, "65532:65532", user, "runs as the pods' runAsUser")
	require.Regexp(t, `CGO_ENABLED=0`, string(b), "a static binary")
	src := regexp.MustCompile(`^COPY\s+(?:--from=\S+\s+)?(.+)\s+\S+$`)
	for _, c := range copies {
		m := src.FindStringSubmatch(c)
		require.NotNil(t, m, c)
		for _, s := range strings.Fields(m[1]) {
			require.Contains(t, []string{"go.mod", "go.sum", "cmd", "internal", "/out/ltk"}, s, "only sources are copied: %s", c)
		}
	}
	require.Contains(t, string(b), `ENTRYPOINT ["/ltk"]`, "the worker probe runs /ltk")
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{"**/devicelist.csv", "**/registry.csv", "**/.env", "runs/", StateFile} {
		require.Contains(t, lines, want)
	}
}
