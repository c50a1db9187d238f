using Delta.Service;
using Delta.Service.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

// Usage: Delta.Service.TestHost --Service:StateDir=DIR --Service:Urls=URL --Service:HostId=ID [--Service:Store=postgres --Service:ConnectionString=...]
var options = new ServiceOptions();
new ConfigurationBuilder().AddCommandLine(args).Build().GetSection("Service").Bind(options);
var app = await DeltaService.BuildAsync(options, new ToyRegressionExecutor(), new ToyJobValidator(),
    logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft", LogLevel.Warning));
await app.RunAsync();
