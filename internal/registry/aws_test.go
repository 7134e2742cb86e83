package registry_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/registry/awstest"
)

const (
	awsKeyID  = "AKIALTKTEST000000001"
	awsRegion = "eu-west-1"
)

// awsEntries makes aws devices from..to with certificates from ca.
func awsEntries(t *testing.T, ca *device.CA, from, to int) []registry.Entry {
	t.Helper()
	var out []registry.Entry
	for n := from; n <= to; n++ {
		d, err := device.Generate(device.FormatID("LTK", 5, n), device.ES256)
		require.NoError(t, err)
		cert, err := ca.IssueDevice(d)
		require.NoError(t, err)
		e := registry.EntryOf(d)
		e.Certificate = string(cert)
		out = append(out, e)
	}
	return out
}

func openAWS(t *testing.T, srv *awstest.Server, cfg registry.AWSConfig) (*registry.AWS, error) {
	t.Helper()
	cfg.Region, cfg.Endpoint = awsRegion, srv.URL()
	cfg.AccessKeyID, cfg.SecretAccessKey = awsKeyID, "ltk-test-secret"
	if cfg.PolicyDocument == "" {
		cfg.PolicyDocument = registry.AWSDevicePolicy("dt/ltk/"+registry.AWSThingName+"/echo", "cmd/ltk/"+registry.AWSThingName+"/echo/#", "cmd/ltk/"+registry.AWSThingName+"/echo")
	}
	return registry.OpenAWS(t.Context(), cfg)
}

// requireLinked checks that each entry is a marked thing whose one
// principal is its certificate, ACTIVE, with policy attached.
func requireLinked(t *testing.T, srv *awstest.Server, entries []registry.Entry, policy string) {
	t.Helper()
	things := srv.Things()
	for _, e := range entries {
		th, ok := things[e.ID]
		require.True(t, ok, "thing %s", e.ID)
		require.Equal(t, map[string]string{"ltk": "device"}, th.Attributes)
		require.Len(t, th.Principals, 1)
		c, ok := srv.Certificate(th.Principals[0])
		require.True(t, ok)
		require.Equal(t, e.Certificate, c.PEM, "the thing's principal is the device's certificate")
		require.Equal(t, "ACTIVE", c.Status)
		require.Contains(t, srv.Targets(policy), c.ARN)
	}
}

func TestAWSRegistersListsAndDeletes(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	r, err := openAWS(t, srv, registry.AWSConfig{})
	require.NoError(t, err)
	require.Empty(t, r.IDs())
	entries := awsEntries(t, ca, 1, 5)
	require.NoError(t, r.Add(entries))
	doc, ok := srv.Policy(registry.DefaultAWSPolicy)
	require.True(t, ok, "ltk creates its policy")
	require.Contains(t, doc, `"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"`)
	require.Contains(t, doc, `"iot:Publish","Resource":["arn:aws:iot:*:*:topic/dt/ltk/${iot:Connection.Thing.ThingName}/echo"]`)
	requireLinked(t, srv, entries, registry.DefaultAWSPolicy)
	require.Empty(t, srv.CAs(), "without a CA the certificates are registered alone")

	var exists *registry.ExistsError
	require.ErrorAs(t, r.Add(entries[:1]), &exists)

	// A thing that is not ltk's is neither listed nor deleted.
	srv.AddThing("LTK00000", map[string]string{"owner": "someone else"})
	other, err := openAWS(t, srv, registry.AWSConfig{})
	require.NoError(t, err)
	require.Equal(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004", "LTK00005"}, other.IDs(), "a fresh open lists what Add made")

	n, err := r.Delete([]string{"LTK00002", "LTK00004", "LTK00009"})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"LTK00001", "LTK00003", "LTK00005"}, r.IDs())
	require.NotContains(t, srv.Things(), "LTK00002")
	require.Equal(t, 3, srv.Certificates(), "the deleted devices' certificates are gone")
	require.Len(t, srv.Targets(registry.DefaultAWSPolicy), 3)

	n, err = r.DeleteAll()
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, []string{"LTK00000"}, slices.Collect(maps.Keys(srv.Things())), "only the other thing is left")
	require.Zero(t, srv.Certificates())
	require.Empty(t, srv.Targets(registry.DefaultAWSPolicy))
	_, ok = srv.Policy(registry.DefaultAWSPolicy)
	require.True(t, ok, "the policy stays for the next devices")
}

func TestAWSRegistersUnderCA(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	srv.AddPolicy("fleet", `{"Version":"2012-10-17","Statement":[]}`)
	r, err := openAWS(t, srv, registry.AWSConfig{CA: ca, Policy: "fleet"})
	require.NoError(t, err)
	entries := awsEntries(t, ca, 1, 3)
	require.NoError(t, r.Add(entries[:2]))
	require.NoError(t, r.Add(entries[2:]), "a registered CA is kept")
	cas := srv.CAs()
	require.Len(t, cas, 1)
	require.Equal(t, string(ca.PEM), cas[0].PEM)
	require.Equal(t, "ACTIVE", cas[0].Status)
	requireLinked(t, srv, entries, "fleet")
	for _, th := range srv.Things() {
		c, _ := srv.Certificate(th.Principals[0])
		require.Equal(t, cas[0].ID, c.CAID, "the device certificate is registered under the CA")
	}
	_, ok := srv.Policy(registry.DefaultAWSPolicy)
	require.False(t, ok, "with a named policy ltk creates none")
}

func TestAWSRefusesMissingPolicy(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	r, err := openAWS(t, srv, registry.AWSConfig{Policy: "nonesuch"})
	require.NoError(t, err)
	err = r.Add(awsEntries(t, ca, 1, 1))
	require.ErrorContains(t, err, "AWS IoT eu-west-1 has no IoT policy nonesuch: create it, or leave out --aws-policy")
	require.Empty(t, srv.Things())
}

func TestAWSAddIsAllOrNothing(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"CreateThing", "RegisterCertificate", "AttachThingPrincipal"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			srv := awstest.Start(t, awsKeyID, awsRegion)
			ca, err := device.NewCA("ltk test CA")
			require.NoError(t, err)
			r, err := openAWS(t, srv, registry.AWSConfig{Parallel: 2})
			require.NoError(t, err)
			srv.Fail(op, "LTK00007")
			err = r.Add(awsEntries(t, ca, 1, 10))
			require.ErrorContains(t, err, "register LTK00007")
			require.ErrorContains(t, err, "injected")
			require.Empty(t, srv.Things(), "the things made before the failure are deleted")
			require.Zero(t, srv.Certificates(), "and their certificates")
			require.Empty(t, srv.Targets(registry.DefaultAWSPolicy))
			require.Empty(t, r.IDs())
		})
	}
}

func TestAWSRollbackFailureIsReported(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	r, err := openAWS(t, srv, registry.AWSConfig{Parallel: 1})
	require.NoError(t, err)
	srv.Fail("AttachThingPrincipal", "LTK00003")
	srv.Fail("DeleteThing", "LTK00001")
	err = r.Add(awsEntries(t, ca, 1, 3))
	require.ErrorContains(t, err, "register LTK00003")
	require.ErrorContains(t, err, "removing the 3 devices registered before that also failed")
	require.ErrorContains(t, err, "unregister LTK00001: delete thing")
}

func TestAWSBadCredentials(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	_, err := registry.OpenAWS(t.Context(), registry.AWSConfig{
		Region: awsRegion, Endpoint: srv.URL(), AccessKeyID: "AKIAWRONG", SecretAccessKey: "x",
	})
	require.ErrorContains(t, err, "AWS IoT eu-west-1: list things")
	require.ErrorContains(t, err, "UnrecognizedClientException")
	require.ErrorContains(t, err, "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")

	_, err = registry.OpenAWS(t.Context(), registry.AWSConfig{Endpoint: srv.URL(), AccessKeyID: awsKeyID})
	require.ErrorContains(t, err, "AWS IoT needs a region")
}

func TestAWSListsPageByPage(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	r, err := openAWS(t, srv, registry.AWSConfig{})
	require.NoError(t, err)
	entries := awsEntries(t, ca, 1, 260) // more than a page of 250
	require.NoError(t, r.Add(entries))
	again, err := openAWS(t, srv, registry.AWSConfig{})
	require.NoError(t, err)
	ids := again.IDs()
	require.Len(t, ids, 260)
	require.True(t, slices.IsSorted(ids))
}

// TestAWSDeleteWaitsForDetachment retries the deletion of a certificate
// that AWS refuses while the thing's detachment propagates.
func TestAWSDeleteWaitsForDetachment(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsKeyID, awsRegion)
	ca, err := device.NewCA("ltk test CA")
	require.NoError(t, err)
	r, err := openAWS(t, srv, registry.AWSConfig{})
	require.NoError(t, err)
	require.NoError(t, r.Add(awsEntries(t, ca, 1, 2)))
	srv.LagDetach(2)
	n, err := r.DeleteAll()
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Zero(t, srv.Certificates())
	require.Empty(t, srv.Things())
}
