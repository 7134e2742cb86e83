// Command clusterdns is the local cluster's DNS server: it answers A queries
// for Services (NAME.NAMESPACE.svc.cluster.local: the ClusterIP, or the ready
// endpoints of a headless Service) and for the pods a Service names
// (HOSTNAME.NAME.NAMESPACE.svc.cluster.local, a StatefulSet's pods), from
// the API server, which it lists every second. Other names go to the
// upstream resolver, if any.
//
// CoreDNS is what clusters run, but the Go module proxy here does not serve
// it; this is the part of CoreDNS's kubernetes plugin ltk's pods need.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

func main() {
	var c config
	flag.StringVar(&c.listen, "listen", "127.0.0.1:53", "UDP and TCP address to answer on")
	flag.StringVar(&c.server, "server", "", "the API server's URL, e.g. https://192.0.2.2:26443")
	flag.StringVar(&c.ca, "ca", "", "the API server's CA certificate (PEM)")
	flag.StringVar(&c.cert, "cert", "", "client certificate (PEM) allowed to list Services and EndpointSlices")
	flag.StringVar(&c.key, "key", "", "the client certificate's key (PEM)")
	flag.StringVar(&c.domain, "domain", "cluster.local", "the cluster's DNS domain")
	flag.StringVar(&c.upstream, "upstream", "", "resolver (host:port) for names outside the domain; empty: refuse them")
	flag.DurationVar(&c.every, "every", time.Second, "how often to list the Services")
	query := flag.String("query", "", "ask the server at -listen for this name's A records, print them and exit (a check)")
	flag.Parse()
	if *query != "" {
		if err := ask(*query, c.listen); err != nil {
			log.Printf("clusterdns: %v", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, c); err != nil {
		log.Printf("clusterdns: %v", err)
		os.Exit(1)
	}
}

type config struct {
	listen, server, ca, cert, key, domain, upstream string
	every                                           time.Duration
}

// records maps a fully qualified name (lower case, trailing dot) to its addresses.
type records map[string][]net.IP

type resolver struct {
	domain   string // "cluster.local."
	upstream string
	recs     atomic.Pointer[records]
}

func run(ctx context.Context, c config) error {
	client, err := apiClient(c)
	if err != nil {
		return err
	}
	r := &resolver{domain: dns.Fqdn(strings.ToLower(c.domain)), upstream: c.upstream}
	empty := records{}
	r.recs.Store(&empty)
	if err := r.refresh(ctx, client, c.server); err != nil {
		return err
	}
	errc := make(chan error, 2)
	var servers []*dns.Server
	for _, network := range []string{"udp", "tcp"} {
		s := &dns.Server{Addr: c.listen, Net: network, Handler: r}
		servers = append(servers, s)
		go func() { errc <- s.ListenAndServe() }()
	}
	log.Printf("clusterdns: answering for %s on %s", r.domain, c.listen)
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			for _, s := range servers {
				_ = s.Shutdown()
			}
			return nil
		case <-t.C:
			if err := r.refresh(ctx, client, c.server); err != nil && ctx.Err() == nil {
				log.Printf("clusterdns: %v", err)
			}
		}
	}
}

func apiClient(c config) (*http.Client, error) {
	if c.server == "" {
		return nil, errors.New("no -server: name the API server's URL")
	}
	pem, err := os.ReadFile(c.ca)
	if err != nil {
		return nil, fmt.Errorf("read the CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", c.ca)
	}
	cert, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}}, nil
}

// The fields of the API's lists that the names come from.
type serviceList struct {
	Items []struct {
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			ClusterIP string `json:"clusterIP"`
		}
	}
}

type sliceList struct {
	Items []struct {
		Metadata struct {
			Namespace string
			Labels    map[string]string
		}
		AddressType string
		Endpoints   []struct {
			Addresses  []string
			Hostname   string
			Conditions struct{ Ready *bool }
		}
	}
}

func get(ctx context.Context, client *http.Client, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// refresh lists the Services and EndpointSlices and replaces the records.
func (r *resolver) refresh(ctx context.Context, client *http.Client, server string) error {
	var svcs serviceList
	if err := get(ctx, client, server+"/api/v1/services", &svcs); err != nil {
		return err
	}
	var slices sliceList
	if err := get(ctx, client, server+"/apis/discovery.k8s.io/v1/endpointslices", &slices); err != nil {
		return err
	}
	recs := records{}
	headless := map[string]bool{}
	for _, s := range svcs.Items {
		fqdn := r.serviceName(s.Metadata.Name, s.Metadata.Namespace)
		if ip := net.ParseIP(s.Spec.ClusterIP); ip != nil && ip.To4() != nil {
			recs[fqdn] = []net.IP{ip}
		} else {
			headless[fqdn] = true
		}
	}
	for _, sl := range slices.Items {
		svc := sl.Metadata.Labels["kubernetes.io/service-name"]
		if svc == "" || sl.AddressType != "IPv4" {
			continue
		}
		fqdn := r.serviceName(svc, sl.Metadata.Namespace)
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				ip := net.ParseIP(a)
				if ip == nil {
					continue
				}
				if headless[fqdn] {
					recs[fqdn] = append(recs[fqdn], ip)
				}
				if ep.Hostname != "" {
					host := strings.ToLower(ep.Hostname) + "." + fqdn
					recs[host] = append(recs[host], ip)
				}
			}
		}
	}
	r.recs.Store(&recs)
	return nil
}

func (r *resolver) serviceName(name, ns string) string {
	return strings.ToLower(name + "." + ns + ".svc." + r.domain)
}

// ServeDNS answers one query.
func (r *resolver) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	question := q.Question[0]
	qname := strings.ToLower(question.Name)
	if !dns.IsSubDomain(r.domain, qname) {
		r.forward(w, q)
		return
	}
	m.Authoritative = true
	ips, ok := (*r.recs.Load())[qname]
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
	case question.Qtype == dns.TypeA || question.Qtype == dns.TypeANY:
		for _, ip := range ips {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
				A:   ip,
			})
		}
	}
	_ = w.WriteMsg(m)
}

// ask queries the server at addr for name's A records and prints them, one a line.
func ask(name, addr string) error {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeA)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil {
		return err
	}
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
		return fmt.Errorf("%s: %s, %d answers", name, dns.RcodeToString[resp.Rcode], len(resp.Answer))
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			fmt.Println(a.A)
		}
	}
	return nil
}

// forward passes a query outside the cluster's domain to the upstream resolver.
func (r *resolver) forward(w dns.ResponseWriter, q *dns.Msg) {
	if r.upstream == "" {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused)
		_ = w.WriteMsg(m)
		return
	}
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		c.Net = "tcp"
	}
	resp, _, err := c.Exchange(q, r.upstream)
	if err != nil {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeServerFailure)
		_ = w.WriteMsg(m)
		return
	}
	_ = w.WriteMsg(resp)
}
