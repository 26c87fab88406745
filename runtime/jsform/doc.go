// Package jsform turns a task's main.js into a compiled goja program that
// yields the task function, whatever form of SPEC §2.2 the file uses.
//
// goja runs scripts, not ES modules, so Normalize rewrites the module syntax
// a task may use (export default, export function, export const, export {a as
// b}) into assignments to a hidden exports object, and wraps a bare anonymous
// function in parentheses. Every rewrite keeps line numbers, and columns too
// except for the one parenthesis added in front of a bare function that starts
// the file, which SyntaxError positions account for. Imports of any kind are
// rejected: a task cannot load modules.
//
// After the program has run in a runtime, Resolve finds the function:
// module.exports, the module exports (default, handler, main), the script's
// completion value, a global main or handler, or the only function the script
// declared.
package jsform
