// The Vector scalar's compact wire form: base64 of little-endian float32, about a quarter of the
// size of a JSON number list and exact to the bit.

export function encodeVector(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}
