using System.Text.Json;
using System.Text.Json.Serialization;

namespace Delta.Service.Api;

/// <summary>JSON of the API: camelCase, states as lower-case strings ("running"), non-finite metrics as "NaN" /
/// "Infinity" (a DeepLab mIoU over a validation set without labelled pixels is NaN: its job must still be served).</summary>
public static class ServiceJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        o.NumberHandling |= JsonNumberHandling.AllowNamedFloatingPointLiterals;
        return o;
    }
}
