package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/device"
)

// rangeArgs checks that a command got exactly FROM and TO.
func rangeArgs(_ *cobra.Command, args []string) error {
	if len(args) != 2 {
		return usageError(fmt.Errorf("want FROM and TO device numbers, e.g. 1 100; got %d arguments", len(args)))
	}
	return nil
}

// idRange is the devices numbered from…to, with ids prefix + number in width digits.
type idRange struct {
	prefix        string
	width         int
	from, to, num int
}

// parseRange checks the FROM TO arguments and the id flags.
func parseRange(f *devicesFlags, args []string) (idRange, error) {
	r := idRange{prefix: f.prefix, width: f.width}
	if f.width < 1 || f.width > 9 {
		return r, usageError(fmt.Errorf("--width %d: want 1 to 9 digits", f.width))
	}
	if err := device.ValidateID(f.prefix + "0"); err != nil {
		return r, usageError(fmt.Errorf("--prefix %q cannot start a device id: %w", f.prefix, err))
	}
	for i, name := range []string{"FROM", "TO"} {
		n, err := strconv.Atoi(args[i])
		if err != nil || n < 1 {
			return r, usageError(fmt.Errorf("%s %q: want a positive whole number", name, args[i]))
		}
		if len(strconv.Itoa(n)) > f.width {
			return r, withHint(usageError(fmt.Errorf("%s %d does not fit in %d digits (the largest id is %s)", name, n, f.width,
				device.FormatID(f.prefix, f.width, maxNumber(f.width)))), "raise --width")
		}
		if i == 0 {
			r.from = n
		} else {
			r.to = n
		}
	}
	if r.from > r.to {
		return r, usageError(fmt.Errorf("FROM %d is after TO %d (e.g. create 1 100)", r.from, r.to))
	}
	r.num = r.to - r.from + 1
	return r, nil
}

func maxNumber(width int) int {
	n := 9
	for range width - 1 {
		n = n*10 + 9
	}
	return n
}

// id returns the id of device number n.
func (r idRange) id(n int) string { return device.FormatID(r.prefix, r.width, n) }

// String is "LTK00001…LTK00100", or the one id.
func (r idRange) String() string {
	if r.from == r.to {
		return r.id(r.from)
	}
	return r.id(r.from) + "…" + r.id(r.to)
}

// number returns the device number of id if it is one of r's form, else 0.
func (r idRange) number(id string) int {
	digits, ok := strings.CutPrefix(id, r.prefix)
	if !ok || len(digits) < r.width {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || r.id(n) != id {
		return 0
	}
	return n
}

// contains reports whether id is one of r's devices.
func (r idRange) contains(id string) bool {
	n := r.number(id)
	return n >= r.from && n <= r.to
}
