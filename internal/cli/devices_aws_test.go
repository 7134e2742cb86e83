package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/registry/awstest"
)

const awsTestKeyID = "AKIALTKCLITEST000001"

// awsEnv is a working directory whose AWS settings point at srv.
func awsEnv(t *testing.T, srv *awstest.Server) *clitest.Env {
	t.Helper()
	e := clitest.NewEnv(t)
	e.Vars["LTK_REGISTRY_ENDPOINT"] = srv.URL()
	e.Vars["AWS_REGION"] = "eu-central-1"
	e.Vars["AWS_ACCESS_KEY_ID"] = awsTestKeyID
	secret := filepath.Join(e.Dir, "aws-secret")
	require.NoError(t, os.WriteFile(secret, []byte("ltk-test-secret\n"), 0o600))
	e.Vars["AWS_SECRET_ACCESS_KEY_FILE"] = secret
	return e
}

// TestDevicesAWSRegistry registers aws devices as AWS IoT things (a fake
// speaking its control-plane API) with their certificates, lists and
// deletes them.
func TestDevicesAWSRegistry(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsTestKeyID, "eu-central-1")
	e := awsEnv(t, srv)
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--profile", "aws", "--registry", "aws")
	require.Contains(t, e.Stdout(), "Created 3 devices LTK00001…LTK00003 (ES256, profile aws)")
	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Len(t, devs, 3)
	things := srv.Things()
	for _, d := range devs {
		cert, ok := device.Column(cols, d.Values, device.ColumnCertificate)
		require.True(t, ok)
		th := things[d.ID]
		require.Len(t, th.Principals, 1, "the thing %s has its certificate", d.ID)
		c, ok := srv.Certificate(th.Principals[0])
		require.True(t, ok)
		want, err := device.ParseCertificate(cert)
		require.NoError(t, err)
		got, err := device.ParseCertificate(c.PEM)
		require.NoError(t, err)
		require.Equal(t, want.Raw, got.Raw, "AWS holds the certificate of devicelist.csv")
		require.Equal(t, "ACTIVE", c.Status)
		require.Contains(t, srv.Targets(registry.DefaultAWSPolicy), c.ARN)
		require.NotContains(t, c.PEM, "PRIVATE KEY")
	}
	doc, ok := srv.Policy(registry.DefaultAWSPolicy)
	require.True(t, ok)
	require.Contains(t, doc, "topicfilter/cmd/ltk/${iot:Connection.Thing.ThingName}/echo", "the policy allows the aws profile's topics")
	require.Empty(t, srv.CAs())

	run(t, e, cli.ExitUsage, "devices", "create", "4", "4", "--registry", "aws")
	require.Contains(t, e.Stderr(), "add --profile aws")

	run(t, e, cli.ExitOK, "devices", "list", "--registry", "aws")
	require.Contains(t, e.Stdout(), "3 registered in AWS IoT eu-central-1")
	run(t, e, cli.ExitOK, "devices", "delete", "2", "3", "--registry", "aws")
	require.Len(t, srv.Things(), 1)
	require.Contains(t, srv.Things(), "LTK00001")
	require.Equal(t, 1, srv.Certificates())
}

// TestDevicesAWSRegisterCA registers the test CA and the certificates
// under it, with an existing policy.
func TestDevicesAWSRegisterCA(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsTestKeyID, "eu-central-1")
	srv.AddPolicy("fleet", "{}")
	e := awsEnv(t, srv)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--profile", "aws", "--registry", "aws", "--aws-register-ca", "--aws-policy", "fleet")
	ca, err := os.ReadFile(filepath.Join(e.Dir, device.CACertFile))
	require.NoError(t, err)
	cas := srv.CAs()
	require.Len(t, cas, 1)
	require.Equal(t, string(ca), cas[0].PEM, "AWS holds ltk-ca.pem")
	require.Len(t, srv.Targets("fleet"), 2)
	for _, th := range srv.Things() {
		c, _ := srv.Certificate(th.Principals[0])
		require.Equal(t, cas[0].ID, c.CAID)
	}
	run(t, e, cli.ExitUsage, "devices", "create", "3", "3", "--profile", "aws", "--aws-register-ca")
	require.Contains(t, e.Stderr(), "use it with --registry aws")
}

// TestDevicesAWSFailures: a failed registration leaves both AWS and
// devicelist.csv as they were; wrong credentials say what to check.
func TestDevicesAWSFailures(t *testing.T) {
	t.Parallel()
	srv := awstest.Start(t, awsTestKeyID, "eu-central-1")
	e := awsEnv(t, srv)
	srv.Fail("AttachThingPrincipal", "LTK00004")
	run(t, e, cli.ExitError, "devices", "create", "1", "5", "--profile", "aws", "--registry", "aws")
	require.Contains(t, e.Stderr(), "register LTK00004: attach certificate to thing")
	require.Empty(t, srv.Things())
	require.Zero(t, srv.Certificates())
	_, err := os.Stat(filepath.Join(e.Dir, "devicelist.csv"))
	require.ErrorIs(t, err, os.ErrNotExist, "no devices are listed that AWS does not hold")

	e.Vars["AWS_ACCESS_KEY_ID"] = "AKIANOTKNOWN"
	run(t, e, cli.ExitError, "devices", "list", "--registry", "aws")
	require.Contains(t, e.Stderr(), "UnrecognizedClientException")
	require.Contains(t, e.Stderr(), "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
}
