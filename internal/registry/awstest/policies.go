package awstest

import (
	"encoding/json"
	"net/http"
	"slices"
)

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("policyName")
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.policies[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Policy not found")
		return
	}
	reply(w, http.StatusOK, map[string]string{"policyName": name, "policyArn": s.arn("policy", name), "policyDocument": doc})
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("policyName")
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !json.Valid([]byte(in.PolicyDocument)) {
		fail(w, http.StatusBadRequest, "MalformedPolicyException", "The policy document is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[name]; ok {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "Policy cannot be created - name already exists", "resourceId", name, "resourceArn", s.arn("policy", name))
		return
	}
	s.policies[name] = in.PolicyDocument
	reply(w, http.StatusOK, map[string]string{"policyName": name, "policyArn": s.arn("policy", name), "policyDocument": in.PolicyDocument, "policyVersionId": "1"})
}

// target reads the body's target and the path's policy, which must exist;
// s.mu is held.
func (s *Server) target(w http.ResponseWriter, r *http.Request) (policy, target string, ok bool) {
	var in struct {
		Target string `json:"target"`
	}
	if !decode(w, r, &in) {
		return "", "", false
	}
	policy = r.PathValue("policyName")
	if _, ok := s.policies[policy]; !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Policy "+policy+" not found")
		return "", "", false
	}
	return policy, in.Target, true
}

func (s *Server) attachPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	policy, target, ok := s.target(w, r)
	if !ok {
		return
	}
	if _, ok := s.principal(w, target); !ok {
		return
	}
	if !slices.Contains(s.targets[policy], target) {
		s.targets[policy] = append(s.targets[policy], target)
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) detachPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	policy, target, ok := s.target(w, r)
	if !ok {
		return
	}
	s.targets[policy] = slices.DeleteFunc(s.targets[policy], func(t string) bool { return t == target })
	w.WriteHeader(http.StatusOK)
}

func (s *Server) listAttachedPolicies(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	s.mu.Lock()
	defer s.mu.Unlock()
	policies := []map[string]string{}
	for p, targets := range s.targets {
		if slices.Contains(targets, target) {
			policies = append(policies, map[string]string{"policyName": p, "policyArn": s.arn("policy", p)})
		}
	}
	reply(w, http.StatusOK, map[string]any{"policies": policies})
}
