package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/device"
)

func newDevicesDeleteCmd(env *Env, f *devicesFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete FROM TO | --all",
		Short: "Remove devices FROM…TO (or all) from devicelist.csv and the local registry",
		Long: `Delete removes devices numbered FROM to TO (with the same --prefix and --width as
create), or every device with --all, from devicelist.csv and from the local
registry. The remaining rows of devicelist.csv are rewritten in ltk's format.`,
		Args: cobra.ArbitraryArgs, // checked in RunE, after LTK_ALL is applied
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.reg.resolve(cmd, env); err != nil {
				return err
			}
			return deleteDevices(cmd.Context(), env, f, args)
		},
	}
	addIDFlags(cmd.Flags(), f)
	cmd.Flags().BoolVar(&f.all, "all", false, "delete every device")
	return cmd
}

func deleteDevices(ctx context.Context, env *Env, f *devicesFlags, args []string) error {
	match := func(string) bool { return true }
	what := "any devices"
	switch {
	case f.all && len(args) > 0:
		return usageError(fmt.Errorf("--all deletes every device and takes no FROM TO"))
	case !f.all && len(args) == 0:
		return usageError(fmt.Errorf("want FROM and TO device numbers (e.g. delete 1 100), or --all"))
	case !f.all:
		if err := rangeArgs(nil, args); err != nil {
			return err
		}
		r, err := parseRange(f, args)
		if err != nil {
			return err
		}
		match, what = r.contains, "devices "+r.String()
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
	var keep []device.Device
	for _, d := range list.devs {
		if !match(d.ID) {
			keep = append(keep, d)
		}
	}
	var unreg []string
	for _, id := range reg.IDs() {
		if match(id) {
			unreg = append(unreg, id)
		}
	}
	fromList := len(list.devs) - len(keep)
	if fromList == 0 && len(unreg) == 0 {
		fmt.Fprintf(env.Stdout, "No %s in %s or %s; nothing deleted.\n", what, list.name, regName)
		return nil
	}
	fromReg := 0
	unregister := func() (err error) {
		if f.all {
			fromReg, err = reg.DeleteAll()
		} else {
			fromReg, err = reg.Delete(unreg)
		}
		return err
	}
	if fromList > 0 {
		var data []byte
		if data, err = device.AppendFleetColumns(nil, keep, list.columns); err != nil { // the header and every column kept
			return err
		}
		err = list.replace(data, unregister)
	} else {
		err = unregister()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deleted %s from %s and %d from %s; %s now holds %s.\n",
		plural(fromList, "device"), list.name, fromReg, regName, list.name, plural(len(keep), "device"))
	return nil
}
