package awstest

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// thingName is the pattern AWS accepts for a thing name.
var thingName = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)

func (s *Server) createThing(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	var in struct {
		AttributePayload struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"attributePayload"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "CreateThing", name) {
		return
	}
	if !thingName.MatchString(name) {
		fail(w, http.StatusBadRequest, "InvalidRequestException", "thingName "+name+" does not match "+thingName.String())
		return
	}
	if t, ok := s.things[name]; ok && !mapsEqual(t.Attributes, in.AttributePayload.Attributes) {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "Thing "+name+" already exists with different tags", "resourceId", name, "resourceArn", s.arn("thing", name))
		return
	} else if !ok {
		s.things[name] = &Thing{Attributes: in.AttributePayload.Attributes}
	}
	reply(w, http.StatusOK, map[string]string{"thingName": name, "thingArn": s.arn("thing", name), "thingId": name})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func (s *Server) deleteThing(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "DeleteThing", name) {
		return
	}
	if t, ok := s.things[name]; ok && len(t.Principals) > 0 {
		fail(w, http.StatusBadRequest, "InvalidRequestException", "Cannot delete thing which has attached principals")
		return
	}
	delete(s.things, name) // deleting a thing that does not exist succeeds
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) listThings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || limit <= 0 || limit > 250 {
		limit = 50
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n, t := range s.things {
		if an := q.Get("attributeName"); an != "" && t.Attributes[an] != q.Get("attributeValue") {
			continue
		}
		if n > q.Get("nextToken") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := struct {
		Things    []map[string]any `json:"things"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Things: []map[string]any{}}
	for _, n := range names[:min(limit, len(names))] {
		out.Things = append(out.Things, map[string]any{"thingName": n, "thingArn": s.arn("thing", n), "attributes": s.things[n].Attributes, "version": 1})
	}
	if len(names) > limit {
		out.NextToken = names[limit-1]
	}
	reply(w, http.StatusOK, out)
}

// principal is a certificate by the ARN in the x-amzn-principal header
// (or a body's target); s.mu is held.
func (s *Server) principal(w http.ResponseWriter, arn string) (*Certificate, bool) {
	for _, c := range s.certs {
		if c.ARN == arn {
			return c, true
		}
	}
	fail(w, http.StatusNotFound, "ResourceNotFoundException", "The certificate given in the principal does not exist: "+arn)
	return nil, false
}

func (s *Server) attachThingPrincipal(w http.ResponseWriter, r *http.Request) {
	name, arn := r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "AttachThingPrincipal", name) {
		return
	}
	t, ok := s.thing(w, name)
	if !ok {
		return
	}
	if _, ok := s.principal(w, arn); !ok {
		return
	}
	if !slices.Contains(t.Principals, arn) {
		t.Principals = append(t.Principals, arn)
	}
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) detachThingPrincipal(w http.ResponseWriter, r *http.Request) {
	name, arn := r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.thing(w, name)
	if !ok {
		return
	}
	t.Principals = slices.DeleteFunc(t.Principals, func(p string) bool { return p == arn })
	if id, ok := strings.CutPrefix(arn, s.arn("cert", "")); ok && s.lag > 0 {
		s.detached[id] = s.lag
	}
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) listThingPrincipals(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.thing(w, name)
	if !ok {
		return
	}
	reply(w, http.StatusOK, map[string]any{"principals": append([]string{}, t.Principals...)})
}

// thing returns the thing named name, answering 404 when there is none;
// s.mu is held.
func (s *Server) thing(w http.ResponseWriter, name string) (*Thing, bool) {
	t, ok := s.things[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Thing "+name+" cannot be found.")
	}
	return t, ok
}
