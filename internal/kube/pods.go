package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// podList is the part of `kubectl get pods -o json` that setup reads.
type podList struct {
	Items []pod `json:"items"`
}

type pod struct {
	Metadata struct {
		Name              string            `json:"name"`
		Labels            map[string]string `json:"labels"`
		DeletionTimestamp *string           `json:"deletionTimestamp"`
	} `json:"metadata"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			Name         string         `json:"name"`
			Ready        bool           `json:"ready"`
			RestartCount int            `json:"restartCount"`
			State        containerState `json:"state"`
			LastState    containerState `json:"lastState"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

type containerState struct {
	Waiting *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"waiting"`
	Terminated *struct {
		Reason   string `json:"reason"`
		ExitCode int    `json:"exitCode"`
	} `json:"terminated"`
}

func parsePods(b []byte) ([]pod, error) {
	var l podList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("read kubectl's pod list: %w", err)
	}
	live := l.Items[:0]
	for _, p := range l.Items {
		if p.Metadata.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live, nil
}

func (p *pod) component() string { return p.Metadata.Labels["app.kubernetes.io/component"] }

// ready reports whether the pod's Ready condition is true.
func (p *pod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// Stuck kinds: what keeps a pod from starting, as setup reports it.
const (
	stuckNone        = ""
	stuckImagePull   = "image pull"
	stuckConfig      = "configuration"
	stuckCrashLoop   = "crash loop"
	stuckUnscheduled = "unschedulable"
)

// stuck says why the pod cannot start, and the status words behind it.
// Image pulls, configuration errors and crash loops will not fix themselves;
// an unschedulable pod may, when nodes are added.
func (p *pod) stuck() (kind, detail string) {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull":
				return stuckImagePull, strings.TrimSpace(w.Reason + ": " + w.Message)
			case "CreateContainerConfigError", "CreateContainerError":
				return stuckConfig, strings.TrimSpace(w.Reason + ": " + w.Message)
			case "CrashLoopBackOff":
				return stuckCrashLoop, fmt.Sprintf("CrashLoopBackOff after %d restarts", cs.RestartCount)
			}
		}
	}
	if p.Status.Phase == "Pending" {
		for _, c := range p.Status.Conditions {
			if c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable" {
				return stuckUnscheduled, c.Message
			}
		}
	}
	return stuckNone, ""
}

// short is the pod's state in a word or two for the progress line.
func (p *pod) short() string {
	if p.ready() {
		return "ready"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	return p.Status.Phase
}

// progress summarises pods per component against want: "master 1/1, worker 2/3 (ContainerCreating)".
func progress(pods []pod, want map[string]int) (line string, done bool) {
	ready := map[string]int{}
	states := map[string]map[string]int{}
	for _, p := range pods {
		c := p.component()
		if p.ready() {
			ready[c]++
			continue
		}
		if states[c] == nil {
			states[c] = map[string]int{}
		}
		states[c][p.short()]++
	}
	comps := make([]string, 0, len(want))
	for c := range want {
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool { return order(comps[i]) < order(comps[j]) })
	done = true
	parts := make([]string, 0, len(comps))
	for _, c := range comps {
		part := fmt.Sprintf("%s %d/%d", c, ready[c], want[c])
		if len(states[c]) > 0 {
			var st []string
			for s, n := range states[c] {
				st = append(st, fmt.Sprintf("%d %s", n, s))
			}
			sort.Strings(st)
			part += " (" + strings.Join(st, ", ") + ")"
		}
		parts = append(parts, part)
		if ready[c] < want[c] {
			done = false
		}
	}
	return strings.Join(parts, ", "), done
}

func order(component string) int {
	switch component {
	case "master":
		return 0
	case "worker":
		return 1
	}
	return 2
}
