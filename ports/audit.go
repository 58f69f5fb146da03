package ports

import (
	"context"
	"time"
)

// AuditEntry records one state-changing action: who did what to which object, when
// and from where. Stores write it in the same transaction as the change it describes.
type AuditEntry struct {
	ID         int64     `db:"id"`
	At         time.Time `db:"at"`
	ActorKind  string    `db:"actor_kind"`
	ActorID    string    `db:"actor_id"`
	Actor      string    `db:"actor"`
	IP         string    `db:"ip"`
	Action     string    `db:"action"`
	ObjectType string    `db:"object_type"`
	ObjectID   string    `db:"object_id"`
	Detail     string    `db:"detail"`
}

// Audit builds an entry for action on an object, attributed to the actor in ctx.
func Audit(ctx context.Context, action, objectType, objectID, detail string) AuditEntry {
	a := ActorFrom(ctx)
	return AuditEntry{
		ActorKind: string(a.Kind), ActorID: a.ID, Actor: a.Name, IP: a.IP,
		Action: action, ObjectType: objectType, ObjectID: objectID, Detail: detail,
	}
}

// AuditFilter selects audit entries. Zero values match everything. Before is the
// keyset cursor: only entries with a smaller id are returned.
type AuditFilter struct {
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	From, To   time.Time
	Before     int64
	Limit      int
}

// AuditLog reads the audit log. Entries are written by the stores, inside their
// transactions, never through this interface.
type AuditLog interface {
	// ListAudit returns entries matching f, newest first, at most f.Limit of them.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
