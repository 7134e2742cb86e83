package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"

	"github.com/ltk-dev/ltk/internal/device"
)

// AWSConfig says which AWS IoT account and region devices are registered
// in, and how.
type AWSConfig struct {
	Region string
	// Endpoint is the IoT control-plane API's base URL; empty =
	// https://iot.REGION.amazonaws.com.
	Endpoint string
	// AccessKeyID, SecretAccessKey and SessionToken sign the calls; empty
	// = the SDK's default chain (AWS_* variables, Profile or the shared
	// config's default, SSO, an instance role).
	AccessKeyID, SecretAccessKey, SessionToken string
	Profile                                    string
	// Policy is the IoT policy attached to each device certificate; empty
	// = DefaultAWSPolicy, created with PolicyDocument when it is absent. A
	// named policy must exist.
	Policy         string
	PolicyDocument string
	// CA, when set, is registered (RegisterCACertificate, once) and the
	// device certificates under it; nil registers each certificate
	// without a CA (RegisterCertificateWithoutCA). Only its certificate
	// leaves the machine, and a verification certificate it signs.
	CA *device.CA
	// Parallel is how many devices are created or deleted at once; default 8.
	Parallel int
}

// DefaultAWSPolicy is the IoT policy ltk creates for its devices.
const DefaultAWSPolicy = "ltk-device"

// AWSThingName is the policy variable of the connecting thing's name,
// which is the device id and its MQTT client id.
const AWSThingName = "${iot:Connection.Thing.ThingName}"

// AWS marks the things it creates with this attribute, and lists only those.
const (
	awsMarkerName  = "ltk"
	awsMarkerValue = "device"
)

// AWSDevicePolicy returns an IoT policy document that lets a device connect
// with its thing name as client id, publish to events, subscribe to
// commandsFilter and receive command and what is below it; each topic
// holds AWSThingName where the device id goes.
func AWSDevicePolicy(events, commandsFilter, command string) string {
	type statement struct {
		Effect, Action string
		Resource       []string
	}
	arn := func(kind, name string) string { return "arn:aws:iot:*:*:" + kind + "/" + name }
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{
		{"Allow", "iot:Connect", []string{arn("client", AWSThingName)}},
		{"Allow", "iot:Publish", []string{arn("topic", events)}},
		{"Allow", "iot:Subscribe", []string{arn("topicfilter", commandsFilter)}},
		{"Allow", "iot:Receive", []string{arn("topic", command), arn("topic", command+"/*")}},
	}}
	b, _ := json.Marshal(doc) // strings only
	return string(b)
}

// AWS is the thing registry of an AWS IoT account in one region: each
// device is a thing (named by its id, with the attribute ltk=device) whose
// principal is its X.509 certificate, registered ACTIVE with an IoT policy
// attached. Private keys never leave the machine. The IDs of ltk's things
// are read once, when it is opened, and kept up to date by Add and Delete.
//
// Its methods run under the context given to OpenAWS; it is safe for
// concurrent use.
type AWS struct {
	cfg    AWSConfig
	ctx    context.Context
	client *iot.Client

	mu  sync.Mutex // Guards ids.
	ids []string   // sorted
}

// OpenAWS signs in to AWS IoT in cfg's region and lists ltk's things.
func OpenAWS(ctx context.Context, cfg AWSConfig) (*AWS, error) {
	if cfg.Region == "" {
		return nil, errors.New("AWS IoT needs a region: give --aws-region (LTK_AWS_REGION) or set AWS_REGION")
	}
	if cfg.Policy == "" {
		cfg.Policy = DefaultAWSPolicy
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	r := &AWS{cfg: cfg, ctx: ctx, client: iot.NewFromConfig(ac, func(o *iot.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})}
	if r.ids, err = r.list(); err != nil {
		return nil, err
	}
	slices.Sort(r.ids)
	return r, nil
}

// UseCA makes Add register ca (once) and the device certificates under it,
// as AWSConfig.CA does. Call it before Add.
func (r *AWS) UseCA(ca *device.CA) { r.cfg.CA = ca }

// Name describes the registry for messages.
func (r *AWS) Name() string { return "AWS IoT " + r.cfg.Region }

// list reads the names of the things marked as ltk's.
func (r *AWS) list() ([]string, error) {
	var ids []string
	p := iot.NewListThingsPaginator(r.client, &iot.ListThingsInput{
		AttributeName: aws.String(awsMarkerName), AttributeValue: aws.String(awsMarkerValue), MaxResults: aws.Int32(250),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			return nil, r.explain("list things", err)
		}
		for _, t := range page.Things {
			ids = append(ids, aws.ToString(t.ThingName))
		}
	}
	return ids, nil
}

// IDs returns the names of ltk's things, sorted.
func (r *AWS) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// explain wraps an AWS call's error with what was done and, for the errors
// of a sign-in, what to do.
func (r *AWS) explain(what string, err error) error {
	hint := ""
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && slices.Contains([]string{"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId"}, api.ErrorCode()):
		hint = " (AWS does not accept the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN for temporary ones, or AWS_PROFILE)"
	case errors.As(err, &api) && slices.Contains([]string{"AccessDeniedException", "UnauthorizedException", "ForbiddenException"}, api.ErrorCode()):
		hint = " (the credentials' IAM identity needs the iot:CreateThing, iot:RegisterCertificate*, iot:AttachPolicy, iot:AttachThingPrincipal, iot:List*, iot:Detach*, iot:UpdateCertificate and iot:Delete* permissions)"
	case strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found"):
		hint = " (no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE for one in ~/.aws/credentials)"
	}
	return fmt.Errorf("%s: %s: %w%s", r.Name(), what, err, hint)
}
