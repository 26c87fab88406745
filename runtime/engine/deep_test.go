package engine

import (
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Very deep values must fail fast: JSON.stringify is native code that the
// timeout cannot interrupt.
func TestDeepNestingFailsFast(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{MaxExecutionDuration: 10 * time.Second})
	r := exec(t, e, "function main(){ let a = []; for (let i = 0; i < 5000; i++) a = [a]; return a }", `{}`)
	wantError(t, r, core.KindOutputValidation, "nested more than 1000 levels")
	r = exec(t, e, "function main(){ let a = {}; for (let i = 0; i < 5000; i++) a = {a: a}; console.log(a); return 1 }", `{}`)
	wantOutput(t, r, "1")
	if len(r.Logs) != 1 || r.Logs[0].Message != "[object Object]" {
		t.Fatalf("logs = %+v", r.Logs)
	}
	// Deep input is refused before it reaches JavaScript.
	deep := ""
	for i := 0; i < 20000; i++ {
		deep += "["
	}
	for i := 0; i < 20000; i++ {
		deep += "]"
	}
	wantError(t, exec(t, e, "function main(i){ return 1 }", deep), core.KindInputValidation, "")
}
