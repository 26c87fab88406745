// An ES module style task: async/await, Promise.all and setTimeout.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function normalise(word, delayMs) {
  await sleep(delayMs);
  return word.trim().toLowerCase();
}

export default async function (input) {
  const delay = input.delayMs ?? 1;
  const started = Date.now();
  const words = await Promise.all(input.words.map((w, i) => normalise(w, delay * (input.words.length - i))));
  const unique = [...new Set(words)].filter((w) => w.length > 0);
  console.log(`normalised ${words.length} words in ${Date.now() - started}ms`);
  return { words: unique, count: unique.length };
}
