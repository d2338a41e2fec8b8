import { returnUrls } from '../../functions/payments/adapters/paypal-gateway';
import { apiBaseUrl } from '../../functions/shared/endpoints';

/** PayPal sends the buyer back to the store's order page, on approval and on cancel. */
const ORDER = '00000000-0000-4000-8000-0000000000aa';

it('points both URLs at the order page of the store (the public API root), on AWS and on the emulator', () => {
  const aws = apiBaseUrl({ apiId: 'abc123', stage: 'prod' }, { region: 'eu-west-1' });
  expect(returnUrls(aws, ORDER)).toEqual({
    return_url: `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/?order=${ORDER}`,
    cancel_url: `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/?order=${ORDER}&paypal=cancelled`,
  });
  const local = apiBaseUrl({ apiId: 'abc123', stage: 'prod' }, { region: 'us-east-1', emulatorEndpoint: 'http://127.0.0.1:4566/' });
  expect(returnUrls(local, ORDER).return_url).toBe(`http://127.0.0.1:4566/_aws/execute-api/abc123/prod/?order=${ORDER}`);
});

it('sets none without a store address (PayPal then ends on its own page)', () => {
  expect(returnUrls(undefined, ORDER)).toEqual({});
});
