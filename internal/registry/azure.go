package registry

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AzureAPIVersion is the IoT Hub REST API version ltk speaks.
const AzureAPIVersion = "2021-04-12"

// AzureConfig says where an Azure IoT Hub's device registry is and how to
// sign in to it: a shared access policy with registry write permission.
type AzureConfig struct {
	// ConnectionString is the policy's connection string, as the portal
	// shows it: HostName=HUB.azure-devices.net;SharedAccessKeyName=NAME;SharedAccessKey=KEY.
	ConnectionString string
	// Endpoint is the REST API's base URL; empty = https://HostName.
	Endpoint string
	// HTTP is the client of the calls; nil = one with a 30 s timeout.
	HTTP *http.Client
}

// azurePolicy is a parsed connection string.
type azurePolicy struct {
	host, name string
	key        []byte
}

func parseConnectionString(s string) (azurePolicy, error) {
	var p azurePolicy
	var key string
	for f := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(k) {
		case "hostname":
			p.host = v
		case "sharedaccesskeyname":
			p.name = v
		case "sharedaccesskey":
			key = strings.TrimSpace(f)[len(k)+1:] // base64 may end in '='
		}
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if p.host == "" || p.name == "" || err != nil || len(raw) == 0 {
		return p, errors.New("the IoT Hub connection string is not HostName=HUB.azure-devices.net;SharedAccessKeyName=NAME;SharedAccessKey=KEY (copy a policy's from the portal: Shared access policies, registryReadWrite)")
	}
	p.key = raw
	return p, nil
}

// token returns a service SAS token for the hub, valid for an hour:
// SharedAccessSignature sr=HUB&sig=…&se=…&skn=NAME.
func (p azurePolicy) token(now time.Time) string {
	sr, se := url.QueryEscape(p.host), strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(sr + "\n" + se))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(sig) + "&se=" + se + "&skn=" + url.QueryEscape(p.name)
}

// Azure is the device registry of an Azure IoT Hub, through its REST API:
// devices are created with SAS authentication and their symmetric key
// (Entry.Secret) as primary key, or, without one, as CA-signed X.509
// devices. The IDs are read once, when it is opened,
// and kept up to date by Add and Delete. It is safe for concurrent use.
type Azure struct {
	ctx    context.Context
	policy azurePolicy
	base   string
	http   *http.Client

	mu  sync.Mutex // Guards ids.
	ids []string   // sorted
}

// OpenAzure signs in to the hub of cfg and lists its devices.
func OpenAzure(ctx context.Context, cfg AzureConfig) (*Azure, error) {
	p, err := parseConnectionString(cfg.ConnectionString)
	if err != nil {
		return nil, err
	}
	r := &Azure{ctx: ctx, policy: p, base: strings.TrimSuffix(cfg.Endpoint, "/"), http: cfg.HTTP}
	if r.base == "" {
		r.base = "https://" + p.host
	}
	if r.http == nil {
		r.http = &http.Client{Timeout: 30 * time.Second}
	}
	if r.ids, err = r.list(); err != nil {
		return nil, err
	}
	slices.Sort(r.ids)
	return r, nil
}

// Name describes the registry for messages.
func (r *Azure) Name() string { return "IoT Hub " + r.policy.host }

// call makes one REST call and decodes a JSON answer into out (if not nil).
// It returns the response's headers.
func (r *Azure) call(method, path string, header http.Header, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.base+path+"?api-version="+AzureAPIVersion, body)
	if err != nil {
		return nil, err
	}
	maps(req.Header, header)
	req.Header.Set("Authorization", r.policy.token(time.Now()))
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is --registry-endpoint right?)", r.Name(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized {
			hint = " (the connection string's policy needs registry read and write: use registryReadWrite or iothubowner)"
		}
		return nil, &AzureError{Method: method, Path: path, Status: resp.StatusCode, Message: strings.TrimSpace(string(msg)) + hint}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return nil, fmt.Errorf("%s %s on %s: answer is not JSON: %w", method, path, r.Name(), err)
		}
	}
	return resp.Header, nil
}

// maps copies h into dst.
func maps(dst, h http.Header) {
	for k, v := range h {
		dst[k] = v
	}
}

// AzureError is an IoT Hub REST call that the hub refused.
type AzureError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *AzureError) Error() string {
	return fmt.Sprintf("IoT Hub %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// list reads every device ID through the registry query, page by page.
func (r *Azure) list() ([]string, error) {
	var ids []string
	cont := ""
	for {
		h := http.Header{"X-Ms-Max-Item-Count": {"1000"}}
		if cont != "" {
			h.Set("X-Ms-Continuation", cont)
		}
		var page []struct {
			DeviceID string `json:"deviceId"`
		}
		got, err := r.call(http.MethodPost, "/devices/query", h, map[string]string{"query": "SELECT deviceId FROM devices"}, &page)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			ids = append(ids, d.DeviceID)
		}
		if cont = got.Get("X-Ms-Continuation"); cont == "" {
			return ids, nil
		}
	}
}

// IDs returns the registered device IDs, sorted.
func (r *Azure) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// Authentication types of IoT Hub devices (the REST API's
// AuthenticationMechanism.type).
const (
	azureAuthSAS = "sas"                  // a symmetric key
	azureAuthCA  = "certificateAuthority" // X.509, a certificate a CA registered with the hub signed
)

// azureDevice is the registry's device resource, as much as ltk sets.
type azureDevice struct {
	DeviceID       string `json:"deviceId"`
	Authentication struct {
		Type         string        `json:"type"`
		SymmetricKey *azureSASKeys `json:"symmetricKey,omitempty"`
	} `json:"authentication"`
}

// azureSASKeys are a sas device's keys.
type azureSASKeys struct {
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}

// Add registers entries: one with a Secret with SAS authentication and the
// Secret as its primary (and secondary) key, one without as a CA-signed
// X.509 device (its certificate's CN is its ID; the hub checks the chain
// against the CA certificates registered with it). It refuses (with
// *ExistsError, creating nothing) IDs that are registered or repeated; if a
// creation fails, the devices it created are deleted again, so that Add
// registers all of entries or none.
func (r *Azure) Add(entries []Entry) error {
	if err := refuseExisting(r.Name(), r.IDs(), entries); err != nil {
		return err
	}
	var created []string
	for _, e := range entries {
		var d azureDevice
		d.DeviceID, d.Authentication.Type = e.ID, azureAuthCA
		if e.Secret != "" {
			d.Authentication.Type = azureAuthSAS
			d.Authentication.SymmetricKey = &azureSASKeys{PrimaryKey: e.Secret, SecondaryKey: e.Secret}
		}
		if _, err := r.call(http.MethodPut, "/devices/"+url.PathEscape(e.ID), nil, &d, nil); err != nil {
			if _, undo := r.deleteIDs(created); undo != nil {
				return fmt.Errorf("register %s: %w; removing the %d devices registered before that also failed: %w", e.ID, err, len(created), undo)
			}
			return fmt.Errorf("register %s: %w", e.ID, err)
		}
		created = append(created, e.ID)
	}
	r.mu.Lock()
	r.ids = append(r.ids, created...)
	slices.Sort(r.ids)
	r.mu.Unlock()
	return nil
}

// Delete unregisters the devices with the given IDs and returns how many
// were registered. IDs that are not registered are ignored.
func (r *Azure) Delete(ids []string) (int, error) {
	return r.deleteIDs(registeredOf(r.IDs(), ids))
}

// DeleteAll unregisters every device and returns how many there were.
func (r *Azure) DeleteAll() (int, error) { return r.deleteIDs(r.IDs()) }

// deleteIDs deletes each device (If-Match: * deletes whatever its etag).
func (r *Azure) deleteIDs(ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		_, err := r.call(http.MethodDelete, "/devices/"+url.PathEscape(id), http.Header{"If-Match": {"*"}}, nil, nil)
		var ae *AzureError
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusNotFound) {
			return n, fmt.Errorf("unregister %s: %w", id, err)
		}
		n++
		r.mu.Lock()
		if i, ok := slices.BinarySearch(r.ids, id); ok {
			r.ids = slices.Delete(r.ids, i, i+1)
		}
		r.mu.Unlock()
	}
	return n, nil
}
