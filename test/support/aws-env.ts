/**
 * Every jest project: calls to the emulator and to the IAM-authorized service APIs are signed
 * with MiniStack's root caller (access key `test`, secret `test`) unless a test sets its own
 * credentials; never look for an instance profile (no metadata service here).
 */
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
