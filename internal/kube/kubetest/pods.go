package kubetest

import (
	"encoding/json"
)

// Pod is one pod in a kubectl get pods -o json answer.
type Pod map[string]any

// Ready is a running, ready pod of component (master, worker, target).
func Ready(name, component string) Pod {
	return pod(name, component, "Running", []any{cond("PodScheduled", "True", "", ""), cond("Ready", "True", "", "")},
		map[string]any{"running": map[string]any{}}, true, 0)
}

// Waiting is a pod whose container waits for reason (ContainerCreating,
// ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError…).
func Waiting(name, component, reason, message string, restarts int) Pod {
	phase := "Pending"
	if reason == "CrashLoopBackOff" {
		phase = "Running"
	}
	return pod(name, component, phase, []any{cond("PodScheduled", "True", "", ""), cond("Ready", "False", "ContainersNotReady", "")},
		map[string]any{"waiting": map[string]any{"reason": reason, "message": message}}, false, restarts)
}

// Unschedulable is a pending pod the scheduler found no node for.
func Unschedulable(name, component, message string) Pod {
	p := pod(name, component, "Pending", []any{cond("PodScheduled", "False", "Unschedulable", message)}, nil, false, 0)
	delete(p["status"].(map[string]any), "containerStatuses")
	return p
}

// List is a kubectl get pods -o json answer.
func List(pods ...Pod) string {
	b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": pods}) // maps of plain values marshal
	return string(b)
}

func pod(name, component, phase string, conds []any, state map[string]any, ready bool, restarts int) Pod {
	return Pod{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "labels": map[string]any{
			"app.kubernetes.io/name": "ltk", "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "ltk"}},
		"status": map[string]any{
			"phase": phase, "conditions": conds,
			"containerStatuses": []any{map[string]any{"name": component, "ready": ready, "restartCount": restarts, "state": state}},
		},
	}
}

func cond(typ, status, reason, message string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": message}
}
