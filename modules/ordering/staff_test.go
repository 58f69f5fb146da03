package ordering

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"orderdesk/ports"
)

func TestNormalizeNumber(t *testing.T) {
	for in, want := range map[string]string{
		"OD-10042": "OD-10042", " od-10042 ": "OD-10042", "10042": "OD-10042", "": "", "abc": "ABC", "OD-": "OD-",
	} {
		if got := NormalizeNumber(in); got != want {
			t.Errorf("NormalizeNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaffAuditOnlyForStaff(t *testing.T) {
	o := &Order{ID: uuid.New(), Number: "OD-1"}
	if a := staffAudit(context.Background(), "order.cancel", o, "x"); a != nil {
		t.Fatalf("system change audited: %+v", a)
	}
	client := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorClient, Name: "bot"})
	if a := staffAudit(client, "order.cancel", o, "x"); a != nil {
		t.Fatalf("client change audited: %+v", a)
	}
	sam := ports.WithActor(context.Background(), ports.Actor{Kind: ports.ActorStaff, ID: "u1", Name: "sam", IP: "192.0.2.7"})
	a := staffAudit(sam, "order.cancel", o, "why")
	if a == nil || a.Actor != "sam" || a.IP != "192.0.2.7" || a.ObjectType != "order" || a.ObjectID != o.ID.String() || a.Detail != "why" {
		t.Fatalf("staff audit %+v", a)
	}
}

func TestClipRunes(t *testing.T) {
	if got := clipRunes("héllo wörld", 5); got != "héll…" {
		t.Fatalf("clip %q", got)
	}
	if got := clipRunes("short", 10); got != "short" {
		t.Fatalf("clip %q", got)
	}
}
