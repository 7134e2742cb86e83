// Command ociimage makes a one-layer image from static binaries, without a
// Docker engine: each binary goes into the layer at /NAME, and the image
// runs the first as its entry point. It writes a docker-archive tarball that
// `ctr images import` loads into containerd.
//
//	ociimage -o ltk.tar -tag localhost/ltk:e2e -user 65532:65532 bin/ltk
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	out := flag.String("o", "", "the docker-archive tarball to write")
	tag := flag.String("tag", "", "the image's name, e.g. localhost/ltk:e2e")
	user := flag.String("user", "", "the user the image runs as, e.g. 65532:65532 (default root)")
	flag.Parse()
	if err := run(*out, *tag, *user, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(out, tag, user string, bins []string) error {
	if out == "" || tag == "" || len(bins) == 0 {
		return errors.New("usage: ociimage -o FILE.tar -tag REF [-user UID:GID] BINARY...")
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image name %q: %w", tag, err)
	}
	layerTar, err := layer(bins)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/" + filepath.Base(bins[0])}
	cf.Config.User = user
	cf.Config.Env = []string{"PATH=/"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	return tarball.WriteToFile(out, ref, img)
}

// layer is a tar of the binaries at the root, plus /tmp, owned by root and
// readable by everyone, with a fixed time so that the same binaries make the
// same image.
func layer(bins []string) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mtime := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime}); err != nil {
		return nil, err
	}
	for _, p := range bins {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: filepath.Base(p), Mode: 0o755, Size: int64(len(data)), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
