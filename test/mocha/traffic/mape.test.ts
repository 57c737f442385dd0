import { expect } from "chai";
import { Mape, mape } from "../../../relayer/traffic/mape.js";
import { expectNear } from "../helpers/near.js";

describe("MAPE", function () {
  it("averages absolute percentage errors, skipping zero actuals", function () {
    // |100 - 110| / 100 = 0.1, the zero actual skipped, |50 - 25| / 50 = 0.5: mean 0.3 = 30 %.
    expectNear(mape([100, 0, 50], [110, 5, 25]), 30, 1e-12);
    const acc = new Mape();
    acc.add(100, 110);
    acc.add(0, 5);
    acc.add(50, 25);
    expect([acc.value, acc.count, acc.skipped]).to.deep.equal([mape([100, 0, 50], [110, 5, 25]), 2, 1]);
  });

  it("is NaN without a non-zero actual and rejects mismatched series", function () {
    expect(mape([0, 0], [1, 2])).to.be.NaN;
    expect(new Mape().value).to.be.NaN;
    expect(() => mape([1], [1, 2])).to.throw(RangeError);
  });
});
