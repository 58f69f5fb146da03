package ports

import "context"

// ActorKind says who acts: a staff user, a client app, or the system itself (jobs).
type ActorKind string

// The kinds of actor.
const (
	ActorStaff  ActorKind = "staff"
	ActorClient ActorKind = "client"
	ActorSystem ActorKind = "system"
)

// Actor is the principal on whose behalf a request or job runs. It is carried in the
// context so that services can record who did what (audit log, order history).
type Actor struct {
	Kind ActorKind
	ID   string
	Name string
	IP   string
}

// System is the actor for work done by OrderDesk itself.
var System = Actor{Kind: ActorSystem, Name: "system"}

type actorKey struct{}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx, or System when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}
