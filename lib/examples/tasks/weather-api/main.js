// Calls an HTTP API with fetch and turns its failures into typed errors.
const API = "https://api.open-meteo.com/v1/forecast";

const CONDITIONS = {
  0: "clear sky", 1: "mainly clear", 2: "partly cloudy", 3: "overcast",
  45: "fog", 61: "rain", 71: "snow", 95: "thunderstorm",
};

async function main(input, context) {
  const url = `${API}?latitude=${input.latitude}&longitude=${input.longitude}&current_weather=true` +
    `&temperature_unit=${input.units === "fahrenheit" ? "fahrenheit" : "celsius"}`;

  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, timeout: 10000 });
  } catch (e) {
    if (e instanceof NotFoundError) {
      throw new NotFoundError(`no weather for ${input.latitude},${input.longitude}`);
    }
    // RateLimitError, ServiceUnavailableError, NetworkError, TimeoutError:
    // let them through, the job will be retried.
    throw e;
  }

  const data = await response.json();
  if (!data || !data.current_weather) {
    throw new DataError("the weather API answered without current_weather", { body: data });
  }
  const w = data.current_weather;
  console.info(`weather for ${input.latitude},${input.longitude}: ${w.temperature}`);
  return {
    temperature: w.temperature,
    windspeed: w.windspeed,
    conditions: CONDITIONS[w.weathercode] || `code ${w.weathercode}`,
    units: input.units === "fahrenheit" ? "fahrenheit" : "celsius",
  };
}
