package cli

import (
	"context"

	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/runset"
)

// openAWSRegistry opens AWS IoT's thing registry with the standard AWS
// settings: the region of --aws-region (LTK_AWS_REGION), else AWS_REGION
// or AWS_DEFAULT_REGION; the keys of AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY_FILE), else AWS_PROFILE,
// else the rest of the SDK's default chain.
func openAWSRegistry(ctx context.Context, env *Env, f *registryFlags) (deviceRegistry, string, error) {
	cfg := f.aws
	cfg.Endpoint = f.iot.Endpoint
	for _, key := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if cfg.Region == "" {
			cfg.Region, _ = env.lookup(key)
		}
	}
	cfg.AccessKeyID, _ = env.lookup("AWS_ACCESS_KEY_ID")
	secret, err := lookupSecret(env, "AWS_SECRET_ACCESS_KEY")
	if err != nil {
		return nil, "AWS IoT", err
	}
	cfg.SecretAccessKey = secret
	cfg.SessionToken, _ = env.lookup("AWS_SESSION_TOKEN")
	cfg.Profile, _ = env.lookup("AWS_PROFILE")
	topics := awsTopics()
	cfg.PolicyDocument = registry.AWSDevicePolicy(
		string(topics.AppendEvents(nil, registry.AWSThingName)),
		string(topics.AppendCommandsFilter(nil, registry.AWSThingName)),
		topics.Command(registry.AWSThingName))
	r, err := registry.OpenAWS(ctx, cfg)
	if err != nil {
		return nil, "AWS IoT", withHint(err, "give the region (--aws-region or AWS_REGION) and credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) of an IAM identity allowed to manage AWS IoT things, or use --registry local")
	}
	name := r.Name()
	return r, name, nil
}

// awsTopics are the aws profile's device topics, which ltk's IoT policy allows.
func awsTopics() runset.Topics {
	p, _ := runset.ProfileByName(runset.ProfileAWS) // a known profile
	return p.Topics
}
