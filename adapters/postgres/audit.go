package postgres

import (
	"context"
	"fmt"
	"strings"

	"orderdesk/ports"
)

// AuditLog reads platform.audit_log.
type AuditLog struct{ db *DB }

// NewAuditLog returns the audit log reader.
func NewAuditLog(db *DB) *AuditLog { return &AuditLog{db: db} }

var _ ports.AuditLog = (*AuditLog)(nil)

// ListAudit returns the entries matching f, newest first.
func (l *AuditLog) ListAudit(ctx context.Context, f ports.AuditFilter) ([]ports.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add("starts_with(action, $%d)", f.Action)
	}
	if f.ObjectType != "" {
		add("object_type = $%d", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = $%d", f.ObjectID)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	if f.Before > 0 {
		add("id < $%d", f.Before)
	}
	q := "SELECT * FROM platform.audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	var out []ports.AuditEntry
	if err := l.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}
