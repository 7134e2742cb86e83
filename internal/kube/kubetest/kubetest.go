// Package kubetest puts recording stand-ins for gcloud, kubectl and docker on
// a PATH for tests of ltk setup and teardown. The stand-ins are real
// executables (bash scripts): they log every call, keep the state a real
// cloud would (a cluster, a repository, applied manifests) in files, and
// answer like the real tools — a describe of a missing cluster fails with
// gcloud's 404 message, kubectl get svc prints the load balancer's address.
package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tools are the stand-ins of one test.
type Tools struct {
	Bin   string // the directory holding gcloud, kubectl and docker
	State string // files that are the fake cloud's state
	log   string
}

// Install writes the stand-ins into a fresh temporary directory.
func Install(t testing.TB) *Tools {
	t.Helper()
	root := t.TempDir()
	tl := &Tools{Bin: filepath.Join(root, "bin"), State: filepath.Join(root, "state"), log: filepath.Join(root, "calls.log")}
	for _, d := range []string{tl.Bin, tl.State} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"gcloud": gcloudScript, "kubectl": kubectlScript, "docker": dockerScript} {
		script := "#!/usr/bin/env bash\nS=" + shellQuote(tl.State) + "\nLOG=" + shellQuote(tl.log) + "\n" +
			"{ printf '%s' " + name + "; printf ' %s' \"$@\"; printf '\\n'; } >> \"$LOG\"\n" + body
		if err := os.WriteFile(filepath.Join(tl.Bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tl
}

// Path is a PATH with the stand-ins first (and the system's tools after, for
// the scripts' own use).
func (tl *Tools) Path() string { return tl.Bin + string(os.PathListSeparator) + os.Getenv("PATH") }

// Only removes every stand-in but names, to test a missing tool.
func (tl *Tools) Only(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range []string{"gcloud", "kubectl", "docker"} {
		keep := false
		for _, k := range names {
			keep = keep || k == n
		}
		if !keep {
			if err := os.Remove(filepath.Join(tl.Bin, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Set writes a state file: "cluster" and "repo" exist, "push-fails",
// "build-fails", "context" (kubectl's current context), "lb-address",
// "pods.json" or "pods.N.json" (the Nth kubectl get pods), "secret-NAME"
// (base64 value), "describe-POD", "logs-POD".
func (tl *Tools) Set(t testing.TB, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tl.State, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Has reports whether a state file exists (e.g. "cluster" after a create).
func (tl *Tools) Has(name string) bool {
	_, err := os.Stat(filepath.Join(tl.State, name))
	return err == nil
}

// Calls returns every call so far, one "tool arg arg…" line each.
func (tl *Tools) Calls(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(tl.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// ResetCalls forgets the calls so far.
func (tl *Tools) ResetCalls(t testing.TB) {
	t.Helper()
	if err := os.Remove(tl.log); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// Applied returns the standard input of every kubectl apply, in order.
func (tl *Tools) Applied(t testing.TB) []string {
	t.Helper()
	var out []string
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(tl.State, fmt.Sprintf("applied.%d.yaml", i)))
		if os.IsNotExist(err) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

const gcloudScript = `
notfound() { echo "ERROR: (gcloud.$1) NOT_FOUND: Requested entity was not found. ResponseError: code=404, message=Not found: $2." >&2; exit 1; }
case "$1 $2 $3" in
"container clusters describe")
  [ -e "$S/cluster" ] || notfound container.clusters.describe "$4"; echo "$4" ;;
"container clusters create")
  [ -e "$S/create-fails" ] && { echo "ERROR: (gcloud.container.clusters.create) $(cat "$S/create-fails")" >&2; exit 1; }
  touch "$S/cluster"; echo "Creating cluster $4...done." ;;
"container clusters get-credentials")
  echo "Fetching cluster endpoint and auth data." >&2; echo "kubeconfig entry generated for $4." >&2 ;;
"container clusters delete")
  [ -e "$S/cluster" ] || notfound container.clusters.delete "$4"; rm "$S/cluster"; echo "Deleted [$4]." >&2 ;;
"artifacts repositories describe")
  [ -e "$S/repo" ] || notfound artifacts.repositories.describe "$4"; echo "$4" ;;
"artifacts repositories create")
  touch "$S/repo"; echo "Created repository [$4]." >&2 ;;
"artifacts repositories delete")
  [ -e "$S/repo" ] || notfound artifacts.repositories.delete "$4"; rm "$S/repo"; echo "Deleted repository [$4]." >&2 ;;
"auth configure-docker "*)
  echo "Docker configuration file updated." >&2 ;;
"services enable "*)
  echo "Operation finished successfully." >&2 ;;
*) echo "gcloud stand-in: unexpected call: $*" >&2; exit 2 ;;
esac
`

const kubectlScript = `
pos=()
while [ $# -gt 0 ]; do
  case "$1" in
  --context|-n|-l|-o|-f|--namespace) shift 2 ;;
  -*) shift ;;
  *) pos+=("$1"); shift ;;
  esac
done
case "${pos[0]} ${pos[1]}" in
"config current-context")
  [ -e "$S/context" ] || { echo "error: current-context is not set" >&2; exit 1; }; cat "$S/context" ;;
"apply ")
  n=$(( $(ls "$S" | grep -c '^applied\.') + 1 )); cat > "$S/applied.$n.yaml"
  grep -E '^kind: ' "$S/applied.$n.yaml" | sed 's/kind: \(.*\)/\1 serverside-applied/' ;;
"get secret")
  [ -e "$S/secret-${pos[2]}" ] && cat "$S/secret-${pos[2]}"; true ;;
"get pods")
  n=$(( $(cat "$S/pods-calls" 2>/dev/null || echo 0) + 1 )); echo $n > "$S/pods-calls"
  if [ -e "$S/pods.$n.json" ]; then cat "$S/pods.$n.json"
  elif [ -e "$S/pods.json" ]; then cat "$S/pods.json"
  else echo '{"items":[]}'; fi ;;
"get svc")
  [ -e "$S/lb-address" ] && cat "$S/lb-address"; true ;;
"describe pod")
  [ -e "$S/describe-${pos[2]}" ] && cat "$S/describe-${pos[2]}" || echo "Name: ${pos[2]}" ;;
"logs "*)
  [ -e "$S/logs-${pos[1]}" ] || { echo "Error from server (BadRequest): previous terminated container not found" >&2; exit 1; }
  cat "$S/logs-${pos[1]}" ;;
"delete namespace")
  echo "namespace \"${pos[2]}\" deleted" ;;
*) echo "kubectl stand-in: unexpected call: ${pos[*]}" >&2; exit 2 ;;
esac
`

const dockerScript = `
case "$1" in
build)
  [ -e "$S/build-fails" ] && { echo "ERROR: failed to solve: $(cat "$S/build-fails")" >&2; exit 1; }
  echo "Successfully built" ;;
push)
  [ -e "$S/push-fails" ] && { cat "$S/push-fails" >&2; exit 1; }
  echo "$2: digest: sha256:0123456789abcdef size: 1234" ;;
*) echo "docker stand-in: unexpected call: $*" >&2; exit 2 ;;
esac
`
