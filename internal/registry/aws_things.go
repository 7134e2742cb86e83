package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"golang.org/x/sync/errgroup"
)

// awsUndoTimeout bounds the removal of what a failed Add created, which
// runs even when Add's context was cancelled.
const awsUndoTimeout = 5 * time.Minute

// awsThing is what exists of one device in AWS IoT: what Add created so far,
// or what Delete found.
type awsThing struct {
	name    string
	created bool // the thing
	certs   []awsCert
}

// awsCert is a certificate of a thing and its links.
type awsCert struct {
	id, arn  string
	policies []string // attached to it
	attached bool     // to the thing, as its principal
}

// Add registers entries: per device a thing marked ltk=device, its
// certificate (ACTIVE, under the CA when AWSConfig.CA is set), the policy
// attached to the certificate and the certificate attached to the thing.
// It refuses (with *ExistsError, creating nothing) IDs that are registered
// or repeated, and entries without a certificate; if a call fails, what
// was created is deleted again, so that Add registers all of entries or
// none.
func (r *AWS) Add(entries []Entry) error {
	for _, e := range entries {
		if e.Certificate == "" {
			return fmt.Errorf("device %s has no certificate: create it with --profile aws", e.ID)
		}
	}
	if err := refuseExisting(r.Name(), r.IDs(), entries); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if err := r.ensurePolicy(); err != nil {
		return err
	}
	caPEM := ""
	if r.cfg.CA != nil {
		if err := r.ensureCA(); err != nil {
			return err
		}
		caPEM = string(r.cfg.CA.PEM)
	}
	// After a failure no more devices are started, but those under way
	// finish: a call cut short could have made what is then not known to
	// exist, and would be left behind.
	things := make([]awsThing, len(entries))
	var g errgroup.Group
	g.SetLimit(r.cfg.Parallel)
	var failed atomic.Bool
	for i, e := range entries {
		things[i].name = e.ID
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			err := r.create(r.ctx, &things[i], e.Certificate, caPEM)
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		undo, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), awsUndoTimeout)
		defer cancel()
		var undone []string
		for i := range things {
			if things[i].created || len(things[i].certs) > 0 {
				undone = append(undone, things[i].name)
			}
		}
		if _, uerr := r.each(undo, things, r.remove); uerr != nil {
			return fmt.Errorf("%w; removing the %d devices registered before that also failed: %w", err, len(undone), uerr)
		}
		return err
	}
	r.mu.Lock()
	for _, e := range entries {
		r.ids = append(r.ids, e.ID)
	}
	slices.Sort(r.ids)
	r.mu.Unlock()
	return nil
}

// create makes t's thing, certificate and links, recording each in t as it
// is made.
func (r *AWS) create(ctx context.Context, t *awsThing, certPEM, caPEM string) error {
	fail := func(what string, err error) error {
		return r.explain(fmt.Sprintf("register %s: %s", t.name, what), err)
	}
	_, err := r.client.CreateThing(ctx, &iot.CreateThingInput{
		ThingName:        aws.String(t.name),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{awsMarkerName: awsMarkerValue}},
	})
	if err != nil {
		return fail("create thing", err)
	}
	t.created = true
	var id, arn *string
	if caPEM == "" {
		out, err := r.client.RegisterCertificateWithoutCA(ctx, &iot.RegisterCertificateWithoutCAInput{
			CertificatePem: aws.String(certPEM), Status: types.CertificateStatusActive,
		})
		if err != nil {
			return fail("register certificate", err)
		}
		id, arn = out.CertificateId, out.CertificateArn
	} else {
		out, err := r.client.RegisterCertificate(ctx, &iot.RegisterCertificateInput{
			CertificatePem: aws.String(certPEM), CaCertificatePem: aws.String(caPEM), Status: types.CertificateStatusActive,
		})
		if err != nil {
			return fail("register certificate", err)
		}
		id, arn = out.CertificateId, out.CertificateArn
	}
	t.certs = []awsCert{{id: aws.ToString(id), arn: aws.ToString(arn)}}
	c := &t.certs[0]
	if _, err := r.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(r.cfg.Policy), Target: arn}); err != nil {
		return fail("attach policy "+r.cfg.Policy, err)
	}
	c.policies = []string{r.cfg.Policy}
	if _, err := r.client.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(t.name), Principal: arn}); err != nil {
		return fail("attach certificate to thing", err)
	}
	c.attached = true
	return nil
}

// ensurePolicy checks that the policy exists, creating ltk's own when it
// does not.
func (r *AWS) ensurePolicy() error {
	_, err := r.client.GetPolicy(r.ctx, &iot.GetPolicyInput{PolicyName: aws.String(r.cfg.Policy)})
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &nf):
		return r.explain("read policy "+r.cfg.Policy, err)
	case r.cfg.Policy != DefaultAWSPolicy:
		return fmt.Errorf("%s has no IoT policy %s: create it, or leave out --aws-policy to have ltk create %s", r.Name(), r.cfg.Policy, DefaultAWSPolicy)
	}
	_, err = r.client.CreatePolicy(r.ctx, &iot.CreatePolicyInput{PolicyName: aws.String(r.cfg.Policy), PolicyDocument: aws.String(r.cfg.PolicyDocument)})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return r.explain("create policy "+r.cfg.Policy, err)
	}
	return nil
}

// ensureCA registers the CA, ACTIVE, proving possession of its key with a
// verification certificate for the account's registration code; a CA that
// is registered already is kept as it is.
func (r *AWS) ensureCA() error {
	code, err := r.client.GetRegistrationCode(r.ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		return r.explain("get the CA registration code", err)
	}
	verification, err := r.cfg.CA.IssueVerification(aws.ToString(code.RegistrationCode))
	if err != nil {
		return err
	}
	_, err = r.client.RegisterCACertificate(r.ctx, &iot.RegisterCACertificateInput{
		CaCertificate: aws.String(string(r.cfg.CA.PEM)), VerificationCertificate: aws.String(string(verification)), SetAsActive: true,
	})
	var exists *types.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return r.explain("register "+r.cfg.CA.String(), err)
	}
	return nil
}

// Delete unregisters the devices with the given IDs and returns how many
// were registered. IDs that are not registered are ignored.
func (r *AWS) Delete(ids []string) (int, error) {
	var things []awsThing
	for _, id := range registeredOf(r.IDs(), ids) {
		things = append(things, awsThing{name: id})
	}
	return r.each(r.ctx, things, r.deleteThing)
}

// DeleteAll unregisters every ltk thing and returns how many there were.
func (r *AWS) DeleteAll() (int, error) { return r.Delete(r.IDs()) }

// each runs fn on every thing, cfg.Parallel at a time, and returns on how
// many it succeeded, forgetting their IDs.
func (r *AWS) each(ctx context.Context, things []awsThing, fn func(context.Context, *awsThing) error) (int, error) {
	var n atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Parallel)
	for i := range things {
		g.Go(func() error {
			if err := fn(ctx, &things[i]); err != nil {
				return err
			}
			n.Add(1)
			r.mu.Lock()
			if j, ok := slices.BinarySearch(r.ids, things[i].name); ok {
				r.ids = slices.Delete(r.ids, j, j+1)
			}
			r.mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	return int(n.Load()), err
}

// deleteThing finds the certificates of t's thing and their policies, and
// removes them all.
func (r *AWS) deleteThing(ctx context.Context, t *awsThing) error {
	t.created = true
	principals := iot.NewListThingPrincipalsPaginator(r.client, &iot.ListThingPrincipalsInput{ThingName: aws.String(t.name)})
	for principals.HasMorePages() {
		page, err := principals.NextPage(ctx)
		if notFound(err) {
			break
		} else if err != nil {
			return r.explain("unregister "+t.name+": list its certificates", err)
		}
		for _, arn := range page.Principals {
			_, id, ok := strings.Cut(arn, ":cert/")
			if !ok {
				continue // not a certificate (an IAM or Cognito principal): not ltk's
			}
			c := awsCert{id: id, arn: arn, attached: true}
			policies := iot.NewListAttachedPoliciesPaginator(r.client, &iot.ListAttachedPoliciesInput{Target: aws.String(arn)})
			for policies.HasMorePages() {
				pp, err := policies.NextPage(ctx)
				if err != nil {
					return r.explain("unregister "+t.name+": list the policies of certificate "+id, err)
				}
				for _, p := range pp.Policies {
					c.policies = append(c.policies, aws.ToString(p.PolicyName))
				}
			}
			t.certs = append(t.certs, c)
		}
	}
	return r.remove(ctx, t)
}

// remove undoes what t records, last made first: it detaches the
// certificates from the thing and their policies, deactivates and deletes
// them, and deletes the thing. What is gone already is skipped.
func (r *AWS) remove(ctx context.Context, t *awsThing) error {
	fail := func(what string, err error) error { return r.explain("unregister "+t.name+": "+what, err) }
	for _, c := range t.certs {
		if c.attached {
			_, err := r.client.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String(t.name), Principal: aws.String(c.arn)})
			if err != nil && !notFound(err) {
				return fail("detach certificate "+c.id, err)
			}
		}
		for _, p := range c.policies {
			_, err := r.client.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String(p), Target: aws.String(c.arn)})
			if err != nil && !notFound(err) {
				return fail("detach policy "+p, err)
			}
		}
		_, err := r.client.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: aws.String(c.id), NewStatus: types.CertificateStatusInactive})
		if err != nil && !notFound(err) {
			return fail("deactivate certificate "+c.id, err)
		}
		// Detaching a thing's principal takes a few seconds to take
		// effect; until then the deletion is refused with a conflict.
		_, err = r.client.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: aws.String(c.id)}, func(o *iot.Options) {
			o.Retryer = retry.AddWithMaxAttempts(retry.AddWithErrorCodes(o.Retryer, "DeleteConflictException"), 10)
		})
		if err != nil && !notFound(err) {
			return fail("delete certificate "+c.id, err)
		}
	}
	if t.created {
		_, err := r.client.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String(t.name)})
		if err != nil && !notFound(err) {
			return fail("delete thing", err)
		}
	}
	return nil
}

// notFound reports whether err says the resource does not exist.
func notFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
