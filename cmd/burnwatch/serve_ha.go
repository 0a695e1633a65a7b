package main

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/burnwatch/burnwatch/service"
)

// haOptions are serve's flags for two replicas electing a leader on a
// Kubernetes Lease (docs/deploy.md, "Two replicas").
type haOptions struct {
	leaseName, leaseNamespace, identity, kubeconfig string
	leaseDuration, renewDeadline, retryPeriod       time.Duration
}

func haFlags(fs *flag.FlagSet) *haOptions {
	o := &haOptions{}
	fs.StringVar(&o.leaseName, "ha.lease-name", "", "the coordination.k8s.io Lease the replicas elect a leader on; set, only the leader sends notifications, heartbeats and scheduled reports (default: none, this replica runs alone)")
	fs.StringVar(&o.leaseNamespace, "ha.lease-namespace", os.Getenv("POD_NAMESPACE"), "the Lease's namespace (default: $POD_NAMESPACE)")
	fs.StringVar(&o.identity, "ha.identity", "", "this replica's name in the Lease (default: $POD_NAME, else the host name)")
	fs.StringVar(&o.kubeconfig, "ha.kubeconfig", "", "a kubeconfig file to reach the Kubernetes API (default: the pod's in-cluster config)")
	fs.DurationVar(&o.leaseDuration, "ha.lease-duration", service.DefaultLeaseDuration, "how long after the leader's last renewal a standby takes the lease")
	fs.DurationVar(&o.renewDeadline, "ha.renew-deadline", service.DefaultRenewDeadline, "how long the leader tries to renew before it stops sending")
	fs.DurationVar(&o.retryPeriod, "ha.retry-period", service.DefaultRetryPeriod, "how often the lease is tried and renewed")
	return o
}

// election is the Election the flags ask for, nil without --ha.lease-name.
func (o *haOptions) election(log *slog.Logger) (service.Election, error) {
	if o.leaseName == "" {
		return nil, nil
	}
	id := o.identity
	if id == "" {
		id = os.Getenv("POD_NAME")
	}
	if id == "" {
		var err error
		if id, err = os.Hostname(); err != nil {
			return nil, usageError{errors.New("--ha.identity: not set, no $POD_NAME and no host name")}
		}
	}
	if o.leaseNamespace == "" {
		return nil, usageError{errors.New("--ha.lease-namespace: required with --ha.lease-name (or $POD_NAMESPACE)")}
	}
	e, err := service.NewLeaseElection(service.LeaseConfig{
		Name: o.leaseName, Namespace: o.leaseNamespace, Identity: id, Kubeconfig: o.kubeconfig,
		LeaseDuration: o.leaseDuration, RenewDeadline: o.renewDeadline, RetryPeriod: o.retryPeriod, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("leader election on", "lease", o.leaseNamespace+"/"+o.leaseName, "identity", id)
	return e, nil
}
