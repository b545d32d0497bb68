package benchmarks

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkInterleaveAA is the method's own check: the bare SDK against
// itself (two servers, two sessions) in alternating blocks, exactly as
// BenchmarkPayloadCall runs the bare SDK against mcpkit. Its x-bare is
// the noise floor of that comparison and should be 1 within it.
func BenchmarkInterleaveAA(b *testing.B) {
	out := incidents(6 << 10)
	params := &mcp.CallToolParams{Name: toolName(0), Arguments: args}
	var variants [2]func() error
	for i := range variants {
		cs := session(b, bareIncidents(b, out))
		variants[i] = func() error {
			for range memoryBlock {
				if err := callOK(cs, params); err != nil {
					return err
				}
			}
			return nil
		}
	}
	interleave(b, memoryBlock, variants)
}
