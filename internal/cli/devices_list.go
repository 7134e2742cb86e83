package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ltk-dev/ltk/internal/runset"
)

func newDevicesListCmd(env *Env, f *devicesFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the devices: id, key algorithm, and whether each is registered",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("ltk devices list takes no arguments; got %q", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.reg.resolve(cmd, env); err != nil {
				return err
			}
			return listDevices(cmd.Context(), env, f)
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print a JSON array instead of a table")
	return cmd
}

// deviceRow is one line of ltk devices list.
type deviceRow struct {
	ID  string `json:"id"`
	Alg string `json:"alg,omitempty"` // empty when devicelist.csv lacks the device
	// Profile is the profile whose credentials the device carries
	// (iotcore for a key only); empty when devicelist.csv lacks it.
	Profile    string `json:"profile,omitempty"`
	Registered bool   `json:"registered"`  // in the registry
	PrivateKey bool   `json:"private_key"` // in devicelist.csv
}

func listDevices(ctx context.Context, env *Env, f *devicesFlags) error {
	list, err := readDeviceList(env, &f.fleet)
	if err != nil {
		return err
	}
	reg, regName, err := openRegistry(ctx, env, f)
	if err != nil {
		return err
	}
	defer closeRegistry(reg)
	regIDs := reg.IDs()
	registered := make(map[string]bool, len(regIDs))
	for _, id := range regIDs {
		registered[id] = true
	}
	rows := make([]deviceRow, 0, len(list.devs))
	inList := make(map[string]bool, len(list.devs))
	unregistered := 0
	for _, d := range list.devs {
		inList[d.ID] = true
		rows = append(rows, deviceRow{ID: d.ID, Alg: string(d.Alg), Profile: profileOf(list.columns, d), Registered: registered[d.ID], PrivateKey: true})
		if !registered[d.ID] {
			unregistered++
		}
	}
	orphans := 0
	for _, id := range regIDs {
		if !inList[id] {
			rows = append(rows, deviceRow{ID: id, Registered: true})
			orphans++
		}
	}
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintf(env.Stdout, "No devices in %s or %s. Make some: ltk devices create 1 100\n", list.name, regName)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	// The profile column shows once the list holds another profile's credentials.
	profiles := slices.ContainsFunc(rows, func(r deviceRow) bool { return r.Profile != "" && r.Profile != runset.ProfileIoTCore })
	if profiles {
		fmt.Fprintln(tw, "ID\tALG\tPROFILE\tREGISTERED")
	} else {
		fmt.Fprintln(tw, "ID\tALG\tREGISTERED")
	}
	for _, r := range rows {
		reg, alg, prof := "no", r.Alg, r.Profile
		if r.Registered {
			reg = "yes"
		}
		if !r.PrivateKey {
			alg, prof, reg = "-", "-", "yes, but no private key in "+list.name
		}
		if profiles {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, alg, prof, reg)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, alg, reg)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Total: %s in %s, %d registered in %s.\n",
		plural(len(list.devs), "device"), list.name, len(regIDs), regName)
	if unregistered > 0 {
		fmt.Fprintf(env.Stdout, "Not registered: %s, which cannot connect to the embedded target (delete and create them again).\n",
			plural(unregistered, "device"))
	}
	if orphans > 0 {
		fmt.Fprintf(env.Stdout, "Registered without a private key: %s (delete them to tidy up).\n", plural(orphans, "device"))
	}
	return nil
}
