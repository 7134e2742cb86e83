// Package iotcoretest runs an in-process Device Manager (the Cloud IoT Core
// API, iotpb) on a loopback gRPC port, for tests of ltk's IoT-Core-API
// registry backend through the real client library. It keeps registries and
// devices in memory and records the commands sent to devices.
package iotcoretest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/iot/apiv1/iotpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// PageSize is how many devices one ListDevices page holds at most, small so
// that tests cross pages.
const PageSize = 2

// Command is one SendCommandToDevice call.
type Command struct {
	Device    string // full device name
	Subfolder string
	Data      []byte
}

// Server is a fake Device Manager.
type Server struct {
	iotpb.UnimplementedDeviceManagerServer
	addr string

	mu         sync.Mutex                          // Guards the fields below.
	registries map[string]map[string]*iotpb.Device // registry name → device id → device
	commands   []Command
	failCreate map[string]codes.Code // device id → the error CreateDevice returns
}

// Start serves a fake Device Manager on 127.0.0.1:0 with the given
// registries (projects/P/locations/R/registries/G) until the test ends.
func Start(t testing.TB, registries ...string) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{addr: lis.Addr().String(), registries: map[string]map[string]*iotpb.Device{}, failCreate: map[string]codes.Code{}}
	for _, r := range registries {
		s.registries[r] = map[string]*iotpb.Device{}
	}
	gs := grpc.NewServer()
	iotpb.RegisterDeviceManagerServer(gs, s)
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(lis) }()
	t.Cleanup(func() { gs.Stop(); <-done })
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Endpoint is the address in the form ltk's registry backend takes for a
// plaintext endpoint without credentials.
func (s *Server) Endpoint() string { return "grpc://" + s.addr }

// Devices returns the devices of registry by id (copies).
func (s *Server) Devices(registry string) map[string]*iotpb.Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*iotpb.Device{}
	for id, d := range s.registries[registry] {
		out[id] = proto.Clone(d).(*iotpb.Device)
	}
	return out
}

// Commands returns the commands sent so far.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// FailCreate makes CreateDevice of id fail with code.
func (s *Server) FailCreate(id string, code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCreate[id] = code
}

// splitDevice splits projects/P/locations/R/registries/G/devices/D.
func splitDevice(name string) (registry, id string, ok bool) {
	registry, id, ok = strings.Cut(name, "/devices/")
	return registry, id, ok && id != "" && !strings.Contains(id, "/")
}

// CreateDevice adds a device; its id must be new and its keys PEM.
func (s *Server) CreateDevice(_ context.Context, req *iotpb.CreateDeviceRequest) (*iotpb.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.registries[req.GetParent()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "registry %q not found", req.GetParent())
	}
	d := req.GetDevice()
	if d.GetId() == "" {
		return nil, status.Error(codes.InvalidArgument, "device id is empty")
	}
	if c, fail := s.failCreate[d.GetId()]; fail {
		return nil, status.Errorf(c, "injected failure for %s", d.GetId())
	}
	if _, dup := reg[d.GetId()]; dup {
		return nil, status.Errorf(codes.AlreadyExists, "device %s already exists", d.GetId())
	}
	for _, c := range d.GetCredentials() {
		pk := c.GetPublicKey()
		if pk == nil || !strings.HasPrefix(pk.GetKey(), "-----BEGIN PUBLIC KEY-----\n") {
			return nil, status.Errorf(codes.InvalidArgument, "device %s: credential is not a PEM public key", d.GetId())
		}
	}
	d = proto.Clone(d).(*iotpb.Device)
	d.Name = req.GetParent() + "/devices/" + d.GetId()
	d.NumId = uint64(len(reg) + 1)
	reg[d.GetId()] = d
	return proto.Clone(d).(*iotpb.Device), nil
}

// GetDevice returns a device.
func (s *Server) GetDevice(_ context.Context, req *iotpb.GetDeviceRequest) (*iotpb.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, id, _ := splitDevice(req.GetName())
	d, ok := s.registries[r][id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "device %q not found", req.GetName())
	}
	return proto.Clone(d).(*iotpb.Device), nil
}

// DeleteDevice removes a device.
func (s *Server) DeleteDevice(_ context.Context, req *iotpb.DeleteDeviceRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, id, _ := splitDevice(req.GetName())
	if _, ok := s.registries[r][id]; !ok {
		return nil, status.Errorf(codes.NotFound, "device %q not found", req.GetName())
	}
	delete(s.registries[r], id)
	return &emptypb.Empty{}, nil
}

// ListDevices lists a registry's devices by id, PageSize at a time.
func (s *Server) ListDevices(_ context.Context, req *iotpb.ListDevicesRequest) (*iotpb.ListDevicesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.registries[req.GetParent()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "registry %q not found", req.GetParent())
	}
	ids := make([]string, 0, len(reg))
	for id := range reg {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(ids) {
			return nil, status.Errorf(codes.InvalidArgument, "bad page token %q", tok)
		}
		start = n
	}
	size := PageSize
	if p := int(req.GetPageSize()); p > 0 && p < size {
		size = p
	}
	end := min(start+size, len(ids))
	resp := &iotpb.ListDevicesResponse{}
	for _, id := range ids[start:end] {
		d := reg[id]
		resp.Devices = append(resp.Devices, &iotpb.Device{Id: d.GetId(), Name: d.GetName(), NumId: d.GetNumId()})
	}
	if end < len(ids) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// SendCommandToDevice records a command to a registered device.
func (s *Server) SendCommandToDevice(_ context.Context, req *iotpb.SendCommandToDeviceRequest) (*iotpb.SendCommandToDeviceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, id, _ := splitDevice(req.GetName())
	if _, ok := s.registries[r][id]; !ok {
		return nil, status.Errorf(codes.NotFound, "device %q not found", req.GetName())
	}
	s.commands = append(s.commands, Command{Device: req.GetName(), Subfolder: req.GetSubfolder(), Data: slices.Clone(req.GetBinaryData())})
	return &iotpb.SendCommandToDeviceResponse{}, nil
}

// String names the server for messages.
func (s *Server) String() string { return fmt.Sprintf("fake Device Manager on %s", s.addr) }
