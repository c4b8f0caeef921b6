// Package sessionsotel turns the events of a sessions.Manager into
// OpenTelemetry metrics:
//
//	sessions.events          counter, attribute event: created, login,
//	                         renewed, destroyed, refused or expired
//	sessions.store.duration  histogram in seconds of every store call,
//	                         attributes op (read, write, remove) and
//	                         outcome (ok, error)
//	sessions.store.errors    counter of failed store calls, attribute op
//
// Wire it with sessions.WithEvents:
//
//	events, err := sessionsotel.Events(provider.Meter("github.com/sessionkit/sessions"))
//	if err != nil { ... }
//	m := sessions.New(store, sessions.WithEvents(events))
//
// No attribute ever carries a session handle or a user ID, though the events
// have them: every distinct attribute value starts a new time series, so a
// value per session or per user would grow the metrics without bound and
// put identifiers in a monitoring system that does not need them. Count
// per user, if needed, in the application's own logs or database.
//
// Not found and invalidated are normal outcomes of a store call, not
// errors, so they are recorded with outcome ok.
package sessionsotel

import (
	"context"
	"fmt"
	"math"

	"github.com/sessionkit/sessions"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Instrument names, so that dashboards and tests need not spell them out.
const (
	EventsName        = "sessions.events"
	StoreDurationName = "sessions.store.duration"
	StoreErrorsName   = "sessions.store.errors"
)

// durationBuckets suit store calls that take from a tenth of a millisecond
// (memory) to a second (a struggling network store); the SDK's default
// buckets, 0 to 10000, are meant for milliseconds and would put every call
// in the first bucket.
var durationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// ops are the store calls the Manager reports. Any other name is recorded
// as "other", which keeps the number of series fixed.
var ops = [...]string{"read", "write", "remove", "other"}

// recorder holds the instruments and, per kind and per op, the options
// with their attribute sets: building a set costs allocations and a sort,
// so that is done once here and never per event.
type recorder struct {
	events   metric.Int64Counter
	duration metric.Float64Histogram
	errors   metric.Int64Counter

	kind    [math.MaxUint8 + 1][]metric.AddOption
	okCall  [len(ops)][]metric.RecordOption
	errCall [len(ops)][]metric.RecordOption
	errOp   [len(ops)][]metric.AddOption
}

// Events creates the three instruments on meter and returns the function to
// give to sessions.WithEvents. The function is safe for concurrent use and
// does not allocate; what a measurement costs beyond that is the meter's.
func Events(meter metric.Meter) (func(context.Context, sessions.Event), error) {
	r := &recorder{}
	var err error
	if r.events, err = meter.Int64Counter(EventsName,
		metric.WithDescription("Session events: created, login, renewed, destroyed, refused writes, expired."),
		metric.WithUnit("{event}")); err != nil {
		return nil, fmt.Errorf("sessionsotel: counter %s: %w", EventsName, err)
	}
	if r.duration, err = meter.Float64Histogram(StoreDurationName,
		metric.WithDescription("Duration of the session store's calls."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, fmt.Errorf("sessionsotel: histogram %s: %w", StoreDurationName, err)
	}
	if r.errors, err = meter.Int64Counter(StoreErrorsName,
		metric.WithDescription("Session store calls that failed."),
		metric.WithUnit("{error}")); err != nil {
		return nil, fmt.Errorf("sessionsotel: counter %s: %w", StoreErrorsName, err)
	}
	r.precompute()
	return r.record, nil
}

// precompute builds the attribute options. Kinds take their names from
// EventKind.String, so a kind added to the sessions package later is
// counted under its own name without a change here.
func (r *recorder) precompute() {
	byName := map[string][]metric.AddOption{}
	for k := range r.kind {
		name := sessions.EventKind(k).String()
		if byName[name] == nil {
			set := attribute.NewSet(attribute.String("event", name))
			byName[name] = []metric.AddOption{metric.WithAttributeSet(set)}
		}
		r.kind[k] = byName[name]
	}
	for i, op := range ops {
		opAttr := attribute.String("op", op)
		r.okCall[i] = []metric.RecordOption{metric.WithAttributeSet(
			attribute.NewSet(opAttr, attribute.String("outcome", "ok")))}
		r.errCall[i] = []metric.RecordOption{metric.WithAttributeSet(
			attribute.NewSet(opAttr, attribute.String("outcome", "error")))}
		r.errOp[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(opAttr))}
	}
}

// record is the function handed to sessions.WithEvents.
func (r *recorder) record(ctx context.Context, e sessions.Event) {
	if e.Kind != sessions.EventStoreCall {
		r.events.Add(ctx, 1, r.kind[e.Kind]...)
		return
	}
	i := opIndex(e.Op)
	if e.Err != nil {
		r.duration.Record(ctx, e.Duration.Seconds(), r.errCall[i]...)
		r.errors.Add(ctx, 1, r.errOp[i]...)
		return
	}
	r.duration.Record(ctx, e.Duration.Seconds(), r.okCall[i]...)
}

// opIndex returns the index of op in ops.
func opIndex(op string) int {
	switch op {
	case "read":
		return 0
	case "write":
		return 1
	case "remove":
		return 2
	}
	return len(ops) - 1
}
