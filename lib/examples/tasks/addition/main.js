// Adds two numbers. The simplest task form: a function in parentheses.
(function (input, context) {
  const sum = input.num1 + input.num2;
  console.log(`adding ${input.num1} and ${input.num2} (attempt ${context.attempt})`);
  return { sum: sum };
})
