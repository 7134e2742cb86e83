package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPerSourceFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"32768\t60999\n", 13410}, // Linux's default: 28,232 ports
		{"1024 65535", 30643},
		{"40000 40001", 1},
		{"", fallbackPerSource},
		{"60999 32768", fallbackPerSource},
		{"a b", fallbackPerSource},
		{"1 2 3", fallbackPerSource},
	} {
		require.Equal(t, tc.want, perSourceFor(tc.in), "%q", tc.in)
	}
}
