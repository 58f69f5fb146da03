package client_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"orderdesk/web/api/client"
)

// TestInSyncWithOpenAPI fails when web/api/openapi.yaml has an operation that the
// generated client lacks: run `go generate ./web/api/client` (task generate:client).
func TestInSyncWithOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"` // path → method (or "parameters") → operation
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(&client.ClientWithResponses{})
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			m, _ := op.(map[string]any)
			id, _ := m["operationId"].(string)
			if id == "" {
				continue
			}
			n++
			name := strings.ToUpper(id[:1]) + id[1:] + "WithResponse"
			if _, ok := typ.MethodByName(name); !ok {
				t.Errorf("%s %s (%s) has no %s in the generated client: run go generate ./web/api/client", strings.ToUpper(method), path, id, name)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d operations found in openapi.yaml", n)
	}
}
