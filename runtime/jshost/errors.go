package jshost

import (
	"fmt"
	"sync"

	"github.com/dop251/goja"

	"github.com/ratchet-go/ratchet/core"
)

// errorsSource defines the error classes of SPEC §2.3 on the global object.
// Each is a real class extending Error, with its name on the prototype, so
// `instanceof Error`, `instanceof NotFoundError` and `.name` all work, and
// subclasses written by a task keep working. An optional second argument
// becomes .details. HttpError takes (status, message).
const errorsSource = `(function (g, names) {
	"use strict";
	function define(C, name) {
		Object.defineProperty(C, "name", { value: name, configurable: true });
		Object.defineProperty(C.prototype, "name", { value: name, writable: true, configurable: true });
		Object.defineProperty(g, name, { value: C, writable: true, configurable: true });
	}
	for (var i = 0; i < names.length; i++) {
		define(class extends Error {
			constructor(message, details) {
				super(message === undefined ? "" : String(message));
				if (details !== undefined) this.details = details;
			}
		}, names[i]);
	}
	define(class extends Error {
		constructor(status, message, details) {
			super(message === undefined ? "HTTP " + status : String(message));
			this.status = Number(status);
			if (details !== undefined) this.details = details;
		}
	}, "HttpError");
})`

var (
	errorsOnce sync.Once
	errorsPrg  *goja.Program
)

// InstallErrors defines the twelve error classes of core.JSErrorClasses in
// rt. The classes are created on first use: most tasks never touch them, and
// creating them costs more than the rest of a runtime's setup. Until then
// each name is a configurable accessor on the global object that creates
// all of them and then reads (or assigns) the real value.
func InstallErrors(rt *goja.Runtime) error {
	errorsOnce.Do(func() { errorsPrg = goja.MustCompile("ratchet:errors", errorsSource, true) })
	g := rt.GlobalObject()
	installed := false
	install := func() {
		if installed {
			return
		}
		installed = true
		v, err := rt.RunProgram(errorsPrg)
		if err != nil {
			panic(rt.NewGoError(fmt.Errorf("installing error classes: %w", err)))
		}
		fn, _ := goja.AssertFunction(v)
		if _, err := fn(goja.Undefined(), g, rt.ToValue(classNames)); err != nil {
			panic(rt.NewGoError(fmt.Errorf("installing error classes: %w", err)))
		}
	}
	for _, k := range core.JSErrorClasses {
		name := string(k)
		get := rt.ToValue(func(goja.FunctionCall) goja.Value {
			install()
			return g.Get(name)
		})
		set := rt.ToValue(func(call goja.FunctionCall) goja.Value {
			install()
			_ = g.Set(name, call.Argument(0))
			return goja.Undefined()
		})
		if err := g.DefineAccessorProperty(name, get, set, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return fmt.Errorf("installing error classes: %w", err)
		}
	}
	return nil
}

// classNames are the classes errorsSource defines with the common
// constructor (all but HttpError).
var classNames = func() []any {
	var names []any
	for _, k := range core.JSErrorClasses {
		if k != core.KindHTTP {
			names = append(names, string(k))
		}
	}
	return names
}()

// NewError constructs an instance of the error class kind (one of
// core.JSErrorClasses, installed by InstallErrors) with message and the
// given extra properties. For kinds without a class it builds an Error whose
// name is kind.
func NewError(rt *goja.Runtime, kind core.ErrorKind, message string, props map[string]any) *goja.Object {
	var obj *goja.Object
	if ctor, ok := rt.GlobalObject().Get(string(kind)).(*goja.Object); ok && ctor != nil {
		var err error
		if kind == core.KindHTTP {
			status := props["status"]
			if status == nil {
				status = 0
			}
			obj, err = rt.New(ctor, rt.ToValue(status), rt.ToValue(message))
		} else {
			obj, err = rt.New(ctor, rt.ToValue(message))
		}
		if err != nil {
			obj = nil
		}
	}
	if obj == nil {
		obj = rt.NewGoError(fmt.Errorf("%s", message))
		ctor, _ := rt.GlobalObject().Get("Error").(*goja.Object)
		if e, err := rt.New(ctor, rt.ToValue(message)); err == nil {
			obj = e
		}
		_ = obj.Set("name", string(kind))
	}
	for k, v := range props {
		_ = obj.Set(k, v)
	}
	return obj
}

// Throw raises a typed error in JavaScript from a Go function called by rt.
// It does not return.
func Throw(rt *goja.Runtime, kind core.ErrorKind, message string, props map[string]any) {
	panic(NewError(rt, kind, message, props))
}
