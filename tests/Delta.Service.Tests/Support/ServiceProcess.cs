using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Delta.Service.Tests.Support;

/// <summary>
/// A real service process (Delta.Service.TestHost) that a test can kill -9 (SIGKILL, no shutdown code runs).
/// Lease 6 s with heartbeats every 0.5 s: on 2 shared cores a process starting next door can starve a host
/// for seconds, and a lease that expires under a live host hands its job to another (that is the design).
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process process;
    public HttpClient Http { get; }
    public string HostId { get; }

    private ServiceProcess(Process process, string url, string hostId)
    {
        this.process = process;
        HostId = hostId;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static async Task<ServiceProcess> StartAsync(string stateDir, string hostId, params string[] extra)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var dll = Path.Combine(AppContext.BaseDirectory, "Delta.Service.TestHost.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, $"--Service:StateDir={stateDir}", $"--Service:Urls={url}", $"--Service:HostId={hostId}",
                     "--Service:LeaseSeconds=6", "--Service:HeartbeatSeconds=0.5", "--Service:PollSeconds=0.2" }.Concat(extra))
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var sp = new ServiceProcess(p, url, hostId);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (p.HasExited)
            {
                // HasExited comes before the output readers have delivered the last lines (the reason it exited): the
                // untimed WaitForExit waits for both redirected streams to reach their end.
                p.WaitForExit();
                throw new InvalidOperationException($"service {hostId} exited with {p.ExitCode}:\n{string.Join('\n', output)}");
            }
            try { if ((await sp.Http.GetAsync("/api/jobs")).IsSuccessStatusCode) return sp; }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > until) { sp.Dispose(); throw new TimeoutException($"service {hostId} did not answer within 60 s:\n{string.Join('\n', output)}"); }
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to checkpoint, release its lease or finish a write.</summary>
    public void Kill9()
    {
        process.Kill(entireProcessTree: false);
        process.WaitForExit();
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!process.HasExited) Kill9();
        process.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
