package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// waitPods polls the pods until every wanted one is ready, printing progress
// when it changes. A pod that cannot start by itself (image pull, missing
// configuration, crash loop) ends the wait at once with its diagnosis; an
// unschedulable one is diagnosed and waited for until the timeout.
func (s *setup) waitPods(ctx context.Context) error {
	want := map[string]int{"master": 1, "worker": s.cfg.Values.Workers}
	if s.cfg.Values.Target {
		want["target"] = 1
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	s.printf("waiting for %s to be ready", s.podsWanted())
	get := s.kubectl("-n", s.cfg.Values.Namespace, "get", "pods", "-l", "app.kubernetes.io/part-of=ltk", "-o", "json")
	get.Query = true
	var last string
	diagnosed := map[string]bool{}
	var pods []pod
	err := poll(ctx, s.cfg.Poll, func() (bool, error) {
		out, err := s.r.Run(ctx, get)
		if err != nil {
			return false, fmt.Errorf("list the pods: %w", err)
		}
		if pods, err = parsePods(out); err != nil {
			return false, err
		}
		line, done := progress(pods, want)
		if line != last {
			s.printf("pods: %s", line)
			last = line
		}
		if done {
			return true, nil
		}
		for i := range pods {
			p := &pods[i]
			kind, _ := p.stuck()
			if kind == stuckNone || diagnosed[p.Metadata.Name+kind] {
				continue
			}
			diagnosed[p.Metadata.Name+kind] = true
			d := s.diagnose(ctx, p)
			if kind != stuckUnscheduled {
				return false, d
			}
			fmt.Fprintf(s.cfg.Out, "%v\n", d) // may resolve when nodes are added: keep waiting
		}
		return false, nil
	})
	if err != nil && timedOut(parent, ctx) {
		var why []string
		for i := range pods {
			if !pods[i].ready() {
				why = append(why, s.diagnose(parent, &pods[i]).Error())
			}
		}
		return fmt.Errorf("pods not ready after %v (%s); re-run ltk setup to keep waiting%s",
			s.cfg.WaitTimeout, last, prefixLines("\n", why))
	}
	return err
}

// timedOut reports whether the wait's own deadline ended ctx (not the
// caller's): a command killed by it is a timeout, not a failure.
func timedOut(parent, ctx context.Context) bool {
	return parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)
}

func prefixLines(sep string, lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return sep + strings.Join(lines, sep)
}

// poll calls check now and then every interval until it is done, fails, or
// ctx ends (ctx's error).
func poll(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		done, err := check()
		if done || err != nil {
			return err
		}
		t.Reset(interval)
	}
}

// uiAddress waits for the web UI's external address and says where it is.
func (s *setup) uiAddress(ctx context.Context) (Result, error) {
	v := s.cfg.Values
	ns := v.Namespace
	switch v.UIService {
	case UIServiceCluster:
		return Result{
			URL:  fmt.Sprintf("http://127.0.0.1:%d", v.WebPort),
			Hint: fmt.Sprintf("kubectl --context %s -n %s port-forward svc/ltk-master-web %d:%d", s.kctx, ns, v.WebPort, v.WebPort),
		}, nil
	case UIServiceNodePort:
		out, err := s.r.Run(ctx, s.kubectl("-n", ns, "get", "svc", "ltk-master-web", "-o", "jsonpath={.spec.ports[0].nodePort}"))
		if err != nil {
			return Result{}, fmt.Errorf("read the web UI's node port: %w", err)
		}
		return Result{URL: fmt.Sprintf("http://NODE-ADDRESS:%s", strings.TrimSpace(string(out))),
			Hint: "NODE-ADDRESS is any node's address: kubectl get nodes -o wide"}, nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
	defer cancel()
	s.printf("waiting for the web UI's external address (the load balancer takes a minute or two)")
	get := s.kubectl("-n", ns, "get", "svc", "ltk-master-web", "-o",
		"jsonpath={.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}")
	get.Query = true
	var addr string
	err := poll(ctx, s.cfg.Poll, func() (bool, error) {
		out, err := s.r.Run(ctx, get)
		if err != nil {
			return false, fmt.Errorf("read the web UI's address: %w", err)
		}
		addr = strings.TrimSpace(string(out))
		return addr != "", nil
	})
	if err != nil && timedOut(parent, ctx) {
		return Result{}, fmt.Errorf("the web UI's load balancer has no address after %v: a cluster without load balancers "+
			"(kind, minikube) needs --ui-service ClusterIP; on a cloud, check 'kubectl -n %s describe svc ltk-master-web'", s.cfg.WaitTimeout, ns)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{URL: fmt.Sprintf("http://%s:%d", addr, v.WebPort)}, nil
}
