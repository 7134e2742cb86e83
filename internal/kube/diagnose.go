package kube

import (
	"context"
	"fmt"
	"strings"
)

// StuckPodError is a pod that cannot start: why, the lines of kubectl
// describe or logs that show it, and what to do.
type StuckPodError struct {
	Pod    string
	Kind   string // image pull, configuration, crash loop, unschedulable
	Detail string
	Lines  []string
	Hint   string
}

// Error is a short report a person can act on.
func (e *StuckPodError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pod %s is stuck (%s): %s", e.Pod, e.Kind, e.Detail)
	for _, l := range e.Lines {
		b.WriteString("\n    " + l)
	}
	if e.Hint != "" {
		b.WriteString("\n  what to do: " + e.Hint)
	}
	return b.String()
}

// maxDiagLines bounds the lines quoted from describe or logs.
const maxDiagLines = 12

// diagnose reads what Kubernetes says about a pod that is not ready and
// returns it as a *StuckPodError.
func (s *setup) diagnose(ctx context.Context, p *pod) *StuckPodError {
	kind, detail := p.stuck()
	name := p.Metadata.Name
	e := &StuckPodError{Pod: name, Kind: kind, Detail: detail}
	ns := s.cfg.Values.Namespace
	if kind == stuckNone {
		e.Kind, e.Detail = "not ready", p.short()
	}
	if kind == stuckCrashLoop {
		logs := s.kubectl("-n", ns, "logs", name, "--previous", "--tail=20")
		logs.Query = true
		out, err := s.r.Run(ctx, logs)
		if err != nil {
			out = []byte("(no logs: " + firstLine(err.Error()) + ")")
		}
		e.Lines = lastLines(string(out), maxDiagLines)
		e.Hint = "the ltk process exits: its last log lines above say why (a bad value in the ltk-settings ConfigMap, " +
			"which comes from your LTK_* settings, or a master the workers cannot reach); fix it and re-run ltk setup"
		return e
	}
	desc := s.kubectl("-n", ns, "describe", "pod", name)
	desc.Query = true
	out, err := s.r.Run(ctx, desc)
	if err != nil {
		e.Lines = []string{"(kubectl describe failed: " + firstLine(err.Error()) + ")"}
	} else {
		e.Lines = eventLines(string(out), maxDiagLines)
	}
	switch kind {
	case stuckImagePull:
		e.Hint = fmt.Sprintf("the nodes cannot pull %s: check that the image was pushed (ltk setup builds and pushes it unless --build=false) "+
			"and that the nodes may read its repository (on GKE, grant the nodes' service account roles/artifactregistry.reader)", s.state.Image)
	case stuckConfig:
		e.Hint = "a Secret or ConfigMap the pod needs is missing or lacks a key: re-run ltk setup, which creates them"
	case stuckUnscheduled:
		e.Hint = "the cluster has no room for the pod: add nodes (LTK_NUM_GKE_NODES, or gcloud container clusters resize), " +
			"use larger machines (--machine-type), or lower the workers' requests (--worker-cpu, --worker-memory)"
		if strings.Contains(strings.ToLower(strings.Join(e.Lines, " ")+detail), "quota") {
			e.Hint = "a quota is exhausted: raise it in the cloud console (IAM & Admin > Quotas) or ask for fewer resources " +
				"(fewer workers, lower --worker-cpu)"
		}
	}
	return e
}

// eventLines returns the warning events of kubectl describe output (the
// lines that say why), else its last lines.
func eventLines(describe string, n int) []string {
	var events []string
	in := false
	for _, l := range strings.Split(describe, "\n") {
		if strings.HasPrefix(l, "Events:") {
			in = true
			continue
		}
		if in && strings.Contains(l, "Warning") {
			events = append(events, strings.Join(strings.Fields(l), " "))
		}
	}
	if len(events) == 0 {
		return lastLines(describe, n)
	}
	if len(events) > n {
		events = events[len(events)-n:]
	}
	return events
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
