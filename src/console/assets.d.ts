// The console's browser scripts are imported as text (wrangler.toml [[rules]] type = "Text").
declare module '*.client.js' {
  const text: string;
  export default text;
}
declare module '*/aws4fetch/dist/aws4fetch.esm.js' {
  const text: string;
  export default text;
}
