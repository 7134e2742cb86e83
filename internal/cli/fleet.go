package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// fleetFlags are the paths of the fleet files, shared by every command that
// reads devices (devices, run, target). Relative paths are under the ltk root
// ($LTK_ROOT, else the working directory); use devicesPath and registryPath.
type fleetFlags struct {
	DevicesFile  string // --devices-file: device IDs and private keys (devicelist.csv)
	RegistryFile string // --registry-file: the local registry, IDs and public keys
}

// addFleetFlags registers --devices-file and --registry-file on fs.
func addFleetFlags(fs *pflag.FlagSet, f *fleetFlags) {
	fs.StringVar(&f.DevicesFile, "devices-file", "devicelist.csv",
		"device list: ids and private keys; the master also reads a directory of its parts, as ltk setup mounts them (relative to $LTK_ROOT or the working directory)")
	fs.StringVar(&f.RegistryFile, "registry-file", registry.DefaultFile,
		"local device registry the embedded target reads: ids and public keys (relative to $LTK_ROOT or the working directory)")
}

// devicesPath returns the device list's path, resolved against env.root().
func (f *fleetFlags) devicesPath(env *Env) string { return underRoot(env, f.DevicesFile) }

// registryPath returns the local registry's path, resolved against env.root().
func (f *fleetFlags) registryPath(env *Env) string { return underRoot(env, f.RegistryFile) }

func underRoot(env *Env, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(env.root(), p)
}

// displayPath returns p as a person would type it: relative to the working
// directory when p is under it, else as is.
func displayPath(env *Env, p string) string {
	if rel, err := filepath.Rel(env.Dir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

// deviceRegistry is what the devices command needs of a registry backend:
// the local file (registry.Local) or an IoT-Core-API registry (registry.IoTCore).
type deviceRegistry interface {
	Add(entries []registry.Entry) error
	Delete(ids []string) (int, error)
	DeleteAll() (int, error)
	IDs() []string
}

var (
	_ deviceRegistry = (*registry.Local)(nil)
	_ deviceRegistry = (*registry.IoTCore)(nil)
	_ deviceRegistry = (*registry.Azure)(nil)
	_ deviceRegistry = (*registry.AWS)(nil)
)

// deviceList is devicelist.csv as read: its bytes, kept to append to and to
// restore, and its devices.
type deviceList struct {
	path    string
	name    string // path for messages
	existed bool
	raw     []byte
	devs    []device.Device
	columns []string // the extra columns its header names
}

// readDeviceList reads and checks the device list; a missing one is empty.
func readDeviceList(env *Env, f *fleetFlags) (*deviceList, error) {
	l := &deviceList{path: f.devicesPath(env)}
	l.name = displayPath(env, l.path)
	raw, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read device list: %w", err)
	}
	l.existed, l.raw = true, raw
	warnReadable(env, l.path, l.name)
	l.devs, l.columns, err = device.DecodeFleetColumns(bytes.NewReader(raw), l.name)
	if err != nil {
		return nil, withHint(err, "fix or remove that row by hand; ltk does not change a device list it cannot read")
	}
	return l, nil
}

// warnReadable warns when the mode of the device list at path lets group
// or others read it: it holds every device's private key.
func warnReadable(env *Env, path, name string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o044 == 0 {
		return
	}
	who := "others"
	switch fi.Mode().Perm() & 0o044 {
	case 0o040:
		who = "its group"
	case 0o044:
		who = "its group and others"
	}
	fmt.Fprintf(env.Stderr, "ltk: warning: %s holds private keys, but its mode %04o lets %s read it: chmod 600 %s\n",
		name, fi.Mode().Perm(), who, name)
}

// replace writes data as the new device list (0600, atomically), then runs
// register; if register fails it puts the old list back, so that the device
// list and the registry never disagree for long.
func (l *deviceList) replace(data []byte, register func() error) error {
	if err := device.WriteFileAtomic(l.path, data, 0o600); err != nil {
		return err
	}
	if err := register(); err != nil {
		var undo error
		if l.existed {
			undo = device.WriteFileAtomic(l.path, l.raw, 0o600)
		} else {
			undo = os.Remove(l.path)
		}
		if undo != nil {
			return fmt.Errorf("%w; restoring %s also failed (%w): it no longer matches the registry", err, l.name, undo)
		}
		return fmt.Errorf("%w (%s left as it was)", err, l.name)
	}
	return nil
}
