package device

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBlock(t *testing.T) {
	t.Parallel()
	devs := make([]Device, 10)
	for i := range devs {
		devs[i].ID = FormatID("LTK", 5, i+1)
	}
	ids := func(ds []Device) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	tests := []struct {
		name          string
		ordinal, size int
		want          []string
	}{
		{"first block", 0, 4, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004"}},
		{"second block", 1, 4, []string{"LTK00005", "LTK00006", "LTK00007", "LTK00008"}},
		{"last block clipped", 2, 4, []string{"LTK00009", "LTK00010"}},
		{"past the end", 3, 4, nil},
		{"exact fit last", 1, 5, []string{"LTK00006", "LTK00007", "LTK00008", "LTK00009", "LTK00010"}},
		{"exact fit past", 2, 5, nil},
		{"one each", 9, 1, []string{"LTK00010"}},
		{"block larger than list", 0, 100, ids(devs)},
		{"negative ordinal", -1, 4, nil},
		{"zero size", 0, 0, nil},
		{"negative size", 0, -3, nil},
		{"huge size", 0, math.MaxInt, ids(devs)},
		{"huge ordinal", math.MaxInt, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ids(Block(devs, tc.ordinal, tc.size)))
		})
	}
	require.Nil(t, Block(nil, 0, 4))

	b := Block(devs, 0, 4)
	_ = append(b, Device{ID: "X"})
	require.Equal(t, "LTK00005", devs[4].ID, "appending to a block leaves the next block alone")
}
