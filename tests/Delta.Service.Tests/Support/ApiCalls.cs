using System.Net.Http.Json;
using System.Text;
using Delta.Service.Api;
using Delta.Service.Jobs;

namespace Delta.Service.Tests.Support;

/// <summary>Test-side calls to the HTTP API.</summary>
public static class ApiCalls
{
    public static string Job(string name, int steps = 20, long seed = 1, int delayMs = 0, int? failAt = null, int? nanAt = null, int checkpointEvery = 5) =>
        System.Text.Json.JsonSerializer.Serialize(new { name, steps, seed, stepDelayMs = delayMs, failAtStep = failAt, nanAtStep = nanAt, checkpointEvery });

    public static async Task<HttpResponseMessage> PostJob(HttpClient http, string json, string? key = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null) req.Headers.Add("Idempotency-Key", key);
        return await http.SendAsync(req);
    }

    public static async Task<JobRecord> Submit(HttpClient http, string json)
    {
        var r = await PostJob(http, json);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"submit failed: {(int)r.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<JobRecord>(body, ServiceJson.Options)!;
    }

    public static async Task<JobRecord> Get(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JobRecord>($"/api/jobs/{id}", ServiceJson.Options))!;

    public static async Task<List<JobRecord>> List(HttpClient http) =>
        (await http.GetFromJsonAsync<List<JobRecord>>("/api/jobs?limit=10000", ServiceJson.Options))!;

    public static async Task<JobRecord> WaitFor(HttpClient http, string id, Func<JobRecord, bool> done, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        JobRecord job;
        while (!done(job = await Get(http, id)))
        {
            if (DateTime.UtcNow > until) Assert.Fail($"job {id} not {what} within {timeout.TotalSeconds}s: state {job.State}, step {job.Progress?.Step}, error {job.Error}");
            await Task.Delay(100);
        }
        return job;
    }

    public static Task<string> Logs(HttpClient http, string id) => http.GetStringAsync($"/api/jobs/{id}/logs");
}
