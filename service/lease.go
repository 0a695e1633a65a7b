package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// The lease's timing, as Kubernetes' own controllers default it, each
// with why.
const (
	// DefaultLeaseDuration is how long a standby waits after the leader's
	// last renewal before it takes the lease: the longest a dead leader
	// leaves nobody sending, and the clock skew it tolerates.
	DefaultLeaseDuration = 15 * time.Second
	// DefaultRenewDeadline is how long the leader keeps trying to renew
	// before it stops sending: shorter than the lease, so that it has
	// stopped before a standby may take over.
	DefaultRenewDeadline = 10 * time.Second
	// DefaultRetryPeriod is how often a standby tries to take the lease
	// (and the leader renews it): after the lease expires, a standby takes
	// it within one period (and client-go's jitter).
	DefaultRetryPeriod = 2 * time.Second
)

// LeaseConfig configures a LeaseElection.
type LeaseConfig struct {
	// Name and Namespace name the coordination.k8s.io/v1 Lease.
	Name, Namespace string
	// Identity is this replica's name in the Lease: its pod's name.
	Identity string
	// Kubeconfig is a kubeconfig file to reach the API server; empty
	// means the pod's in-cluster config (its ServiceAccount's token).
	Kubeconfig string
	// LeaseDuration, RenewDeadline and RetryPeriod default to Kubernetes'
	// (15s, 10s, 2s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Logger                                    *slog.Logger
}

// LeaseElection is an Election on a Kubernetes Lease through client-go's
// leaderelection, as Kubernetes' own controllers elect their leader.
type LeaseElection struct {
	c    LeaseConfig
	lock *resourcelock.LeaseLock
}

var _ Election = (*LeaseElection)(nil)

// NewLeaseElection makes an election on the Lease c names; nothing is
// sent to the API server until Run.
func NewLeaseElection(c LeaseConfig) (*LeaseElection, error) {
	if c.Name == "" || c.Namespace == "" || c.Identity == "" {
		return nil, errors.New("leader election: the lease's name and namespace and this replica's identity are required")
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = DefaultRenewDeadline
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = DefaultRetryPeriod
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LeaseDuration <= c.RenewDeadline || c.RenewDeadline <= time.Duration(leaderelection.JitterFactor*float64(c.RetryPeriod)) {
		return nil, fmt.Errorf("leader election: want lease duration (%s) > renew deadline (%s) > %.1f × retry period (%s)",
			c.LeaseDuration, c.RenewDeadline, leaderelection.JitterFactor, c.RetryPeriod)
	}
	var (
		cfg *rest.Config
		err error
	)
	if c.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("leader election: the Kubernetes API's config: %w", err)
	}
	// Renewals must not wait on the client's rate limit.
	cfg.QPS, cfg.Burst = 20, 40
	cfg.UserAgent = "burnwatch"
	client, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	return &LeaseElection{c: c, lock: &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace},
		Client:     client,
		LockConfig: resourcelock.ResourceLockConfig{Identity: c.Identity},
	}}, nil
}

// Run campaigns until ctx ends, and then releases the lease if it holds
// it, so that the other replica takes over at once rather than after the
// lease expires. A lost lease is campaigned for again.
func (l *LeaseElection) Run(ctx context.Context, started func(), stopped func()) {
	log := l.c.Logger.With("lease", l.c.Namespace+"/"+l.c.Name, "identity", l.c.Identity)
	// client-go calls OnStartedLeading in a goroutine of its own: the
	// mutex keeps started and stopped from overlapping, and a lease lost
	// while started runs is stopped right after it.
	var mu sync.Mutex
	active := false
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            l.lock,
			LeaseDuration:   l.c.LeaseDuration,
			RenewDeadline:   l.c.RenewDeadline,
			RetryPeriod:     l.c.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            l.c.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					mu.Lock()
					defer mu.Unlock()
					if lctx.Err() == nil && !active {
						active = true
						started()
					}
				},
				OnStoppedLeading: func() {
					mu.Lock()
					defer mu.Unlock()
					if active {
						active = false
						stopped()
					}
				},
				OnNewLeader: func(id string) {
					log.Info("leader elected", "leader", id)
				},
			},
		})
		if err != nil {
			log.Error("leader election not started", "err", err)
			return
		}
		le.Run(ctx)
		if ctx.Err() == nil {
			log.Warn("lost the lease; campaigning again")
		}
	}
}
