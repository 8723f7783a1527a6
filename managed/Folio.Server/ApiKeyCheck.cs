using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>
/// --api-key: every /v1/* request must send "Authorization: Bearer KEY" (as vLLM, /health, /metrics, /tokenize and
/// /detokenize stay open). The comparison is constant-time: both sides are hashed to 32 bytes first, so neither
/// the key's length nor the position of the first wrong byte shows in the response time.
/// </summary>
internal sealed class ApiKeyCheck(string key)
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes("Bearer " + key));

    public bool Applies(HttpContext http) => http.Request.Path.StartsWithSegments("/v1");

    public bool Allows(HttpContext http)
    {
        string given = http.Request.Headers.Authorization.ToString();
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _expected);
    }
}
