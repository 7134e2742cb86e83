// Package azuretest runs an in-process fake of Azure IoT Hub's device
// registry REST API for tests: device create (PUT), delete (DELETE with
// If-Match) and the registry query (POST /devices/query, paged with
// x-ms-continuation), each checked for the api-version and a service SAS
// token signed with the hub's policy key, as the hub checks them. A device
// is created with the authentication the hub takes: "sas" with a symmetric
// key, "selfSigned" with a thumbprint, "certificateAuthority" with neither.
package azuretest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hub is a fake IoT hub. Its methods are safe for concurrent use.
type Hub struct {
	srv        *httptest.Server
	host, name string
	key        []byte

	mu      sync.Mutex         // Guards the fields below.
	devices map[string]azureID // by id
	failPut string             // a device whose creation fails with 500
}

// azureID is a registered device's authentication.
type azureID struct {
	auth string // sas, selfSigned or certificateAuthority
	key  string // a sas device's primary key
}

// Start starts a hub named host on loopback; t.Cleanup stops it.
func Start(t testing.TB, host string) *Hub {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h := &Hub{host: host, name: "registryReadWrite", key: key, devices: map[string]azureID{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

// URL returns the REST API's base URL.
func (h *Hub) URL() string { return h.srv.URL }

// ConnectionString returns the registryReadWrite policy's connection string.
func (h *Hub) ConnectionString() string {
	return "HostName=" + h.host + ";SharedAccessKeyName=" + h.name + ";SharedAccessKey=" + base64.StdEncoding.EncodeToString(h.key)
}

// Devices returns the registered devices' primary keys by id ("" for an
// X.509 device).
func (h *Hub) Devices() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]string, len(h.devices))
	for k, v := range h.devices {
		out[k] = v.key
	}
	return out
}

// AuthType returns device id's authentication type: "sas", "selfSigned"
// or "certificateAuthority"; "" if it is not registered.
func (h *Hub) AuthType(id string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.devices[id].auth
}

// FailCreate makes the creation of device id fail with 500.
func (h *Hub) FailCreate(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failPut = id
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("api-version") != "2021-04-12" {
		http.Error(w, `{"Message":"ErrorCode:InvalidProtocolVersion"}`, http.StatusBadRequest)
		return
	}
	if !h.authorized(r.Header.Get("Authorization")) {
		http.Error(w, `{"Message":"ErrorCode:IotHubUnauthorizedAccess;Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	id, isDevice := strings.CutPrefix(r.URL.Path, "/devices/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/devices/query":
		h.query(w, r)
	case r.Method == http.MethodPut && isDevice:
		h.create(w, r, id)
	case r.Method == http.MethodDelete && isDevice:
		h.delete(w, r, id)
	default:
		http.Error(w, `{"Message":"ErrorCode:NotFound"}`, http.StatusNotFound)
	}
}

// authorized checks a service SAS token: sr the hub, skn the policy, se in
// the future, sig the HMAC-SHA256 of the policy key.
func (h *Hub) authorized(token string) bool {
	rest, ok := strings.CutPrefix(token, "SharedAccessSignature ")
	if !ok {
		return false
	}
	f := map[string]string{}
	for kv := range strings.SplitSeq(rest, "&") {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	sr, _ := url.QueryUnescape(f["sr"])
	skn, _ := url.QueryUnescape(f["skn"])
	se, err := strconv.ParseInt(f["se"], 10, 64)
	if sr != h.host || skn != h.name || err != nil || time.Unix(se, 0).Before(time.Now()) {
		return false
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(f["sr"] + "\n" + f["se"]))
	sig, _ := url.QueryUnescape(f["sig"])
	got, err := base64.StdEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, m.Sum(nil))
}

func (h *Hub) create(w http.ResponseWriter, r *http.Request, id string) {
	var d struct {
		DeviceID       string `json:"deviceId"`
		Authentication struct {
			Type         string `json:"type"`
			SymmetricKey *struct {
				PrimaryKey   string `json:"primaryKey"`
				SecondaryKey string `json:"secondaryKey"`
			} `json:"symmetricKey"`
			X509Thumbprint *struct {
				PrimaryThumbprint   string `json:"primaryThumbprint"`
				SecondaryThumbprint string `json:"secondaryThumbprint"`
			} `json:"x509Thumbprint"`
		} `json:"authentication"`
	}
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil || d.DeviceID != id || !validAuth(d.Authentication.Type,
		d.Authentication.SymmetricKey != nil && d.Authentication.SymmetricKey.PrimaryKey != "",
		d.Authentication.X509Thumbprint != nil && d.Authentication.X509Thumbprint.PrimaryThumbprint != "") {
		http.Error(w, `{"Message":"ErrorCode:ArgumentInvalid"}`, http.StatusBadRequest)
		return
	}
	dev := azureID{auth: d.Authentication.Type}
	if d.Authentication.SymmetricKey != nil {
		dev.key = d.Authentication.SymmetricKey.PrimaryKey
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch _, exists := h.devices[id]; {
	case h.failPut == id:
		http.Error(w, `{"Message":"ErrorCode:ServerError"}`, http.StatusInternalServerError)
	case exists && r.Header.Get("If-Match") == "":
		http.Error(w, `{"Message":"ErrorCode:DeviceAlreadyExists"}`, http.StatusConflict)
	default:
		h.devices[id] = dev
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"deviceId": id, "etag": "AAAA", "status": "enabled"})
	}
}

// validAuth reports whether a device's authentication is one the hub
// takes: sas with a key, selfSigned with a thumbprint, certificateAuthority
// with neither (the CA registered with the hub vouches for the device).
func validAuth(typ string, key, thumbprint bool) bool {
	switch typ {
	case "sas":
		return key && !thumbprint
	case "selfSigned":
		return thumbprint && !key
	case "certificateAuthority":
		return !key && !thumbprint
	}
	return false
}

func (h *Hub) delete(w http.ResponseWriter, r *http.Request, id string) {
	if r.Header.Get("If-Match") == "" {
		http.Error(w, `{"Message":"ErrorCode:PreconditionFailed"}`, http.StatusPreconditionFailed)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.devices[id]; !ok {
		http.Error(w, `{"Message":"ErrorCode:DeviceNotFound"}`, http.StatusNotFound)
		return
	}
	delete(h.devices, id)
	w.WriteHeader(http.StatusNoContent)
}

// query answers the registry query a page at a time.
func (h *Hub) query(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.Atoi(r.Header.Get("X-Ms-Max-Item-Count"))
	if err != nil || size < 1 {
		size = 100
	}
	from, _ := strconv.Atoi(r.Header.Get("X-Ms-Continuation"))
	h.mu.Lock()
	ids := make([]string, 0, len(h.devices))
	for id := range h.devices {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	slices.Sort(ids)
	page := []map[string]string{}
	for _, id := range ids[min(from, len(ids)):min(from+size, len(ids))] {
		page = append(page, map[string]string{"deviceId": id})
	}
	if from+size < len(ids) {
		w.Header().Set("X-Ms-Continuation", strconv.Itoa(from+size))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}
